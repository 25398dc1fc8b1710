"""The SyncdExchange web service, as the module in ``contrib/1c/SyncdExchange`` answers.

Served at ``/ws/SyncdExchange.1cws`` with the WSDL of ``contrib/`` itself (its
addresses set to the URL asked), over the sandbox's exchange plan and data:

- ``Describe``: the ``$metadata`` the OData interface publishes (CSDL v3);
- ``ReceivedNo`` / ``SelectChanges`` / ``NotifyChangesReceived``: the plan's
  registered changes for the node with that code, as the OData ``SelectChanges``
  hands them out (same stamping, same confirmation);
- ``GetObject``: one object, or nil; ``SetOrderStatus``: the order's ``Статус`` set,
  written and posted (a refusal is a SOAP Fault with the posting's message), the
  order answered as it now is.

An entry carries every property of the set (``Name``/``Value``, values as 1C's
``XMLСтрока`` writes them: ``true``/``false``, ``1500``, ``2026-11-28T10:00:00``)
and its tabular sections' rows without their copy of ``Ref_Key``: what an Atom
entry of the same object carries, so both paths give syncd the same event.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from syncd_sandbox.erp_query import ODataFault
from syncd_sandbox.erp_schema import EXCHANGE_PLAN, SCHEMA, metadata_xml
from syncd_sandbox.erp_soap import Operation, SandboxSoapService, SoapFault
from syncd_sandbox.erp_state import node_ref

NAME = "SyncdExchange"
NAMESPACE = "urn:syncd:exchange"
WSDL = Path(__file__).resolve().parents[2] / "contrib/1c/SyncdExchange/SyncdExchange.wsdl"
ORDERS = "Document_ЗаказКлиента"
XS = 'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def syncd_exchange_service(trade: Any, user: str | None, password: str | None) -> Any:
    plan = trade.plan

    def received_no(Node: str | None) -> str:  # noqa: N803 - the WSDL's names
        return str(_node(trade, Node).get("ReceivedNo") or 0)

    def select(Node: str | None, MessageNo: str | None) -> tuple[int, list]:  # noqa: N803
        number = _number(MessageNo)
        _node(trade, Node)
        return number, plan.select(node_ref(Node or ""), number)

    def confirm(Node: str | None, MessageNo: str | None) -> str:  # noqa: N803
        _node(trade, Node)
        plan.confirm(node_ref(Node or ""), _number(MessageNo))
        return "true"

    def get(Set: str | None, Ref: str | None) -> tuple[str, dict | None]:  # noqa: N803
        if Set not in SCHEMA or Set == EXCHANGE_PLAN:
            raise SoapFault(f"Набор {Set} не обслуживается веб-сервисом SyncdExchange")
        try:
            return Set, trade.state.get(Set, (str(uuid.UUID(Ref or "")),))
        except ODataFault:
            return Set, None
        except ValueError:
            raise SoapFault(f"Не является уникальным идентификатором: {Ref}") from None

    def set_status(  # noqa: N803
        Ref: str | None,
        Status: str | None,
        CancelSection: str | None = None,
        CancelFlag: str | None = None,
    ) -> tuple[str, dict | None]:
        _, order = get(ORDERS, Ref)
        if order is None:
            raise SoapFault(f"Заказ клиента {Ref} не найден")
        body: dict[str, Any] = {"Статус": Status}
        if CancelSection and CancelFlag:  # every row flagged, as the module does
            rows = [dict(row) for row in order.get(CancelSection) or []]
            body[CancelSection] = [{**row, CancelFlag: True} for row in rows]
        try:
            trade.write(ORDERS, (order["Ref_Key"],), body, data_load=False)
            trade.post(ORDERS, (order["Ref_Key"],))
        except ODataFault as fault:
            raise SoapFault(fault.message) from None
        return get(ORDERS, order["Ref_Key"])

    def entry_of(result: tuple[str, dict | None]) -> str:
        set_name, row = result
        if row is None:
            return f'<m:return {XSI} xsi:nil="true"/>'
        return _entry(set_name, row, None, tag="return")

    operations = {
        "Describe": Operation([], lambda: metadata_xml().decode("utf-8")),
        "ReceivedNo": Operation(["Node"], received_no),
        "SelectChanges": Operation(["Node", "MessageNo"], select, render=_changes),
        "NotifyChangesReceived": Operation(["Node", "MessageNo"], confirm),
        "GetObject": Operation(["Set", "Ref"], get, render=entry_of),
        "SetOrderStatus": Operation(
            ["Ref", "Status", "CancelSection", "CancelFlag"], set_status, render=entry_of
        ),
    }
    return SandboxSoapService(
        NAME, NAMESPACE, operations, user=user, password=password, wsdl_text=WSDL.read_text()
    )


def _node(trade: Any, code: str | None) -> dict:
    try:
        return trade.state.get(EXCHANGE_PLAN, (node_ref(code or ""),))
    except (KeyError, ODataFault):
        raise SoapFault(f"Узел {code} плана обмена syncd не найден") from None


def _number(text: str | None) -> int:
    try:
        return int(text or "")
    except ValueError:
        raise SoapFault(f"MessageNo: ожидалось число, получено {text!r}") from None


def _changes(result: tuple[int, list]) -> str:
    number, changes = result
    entries = "".join(_entry(s, row, key, tag="Entry") for s, key, row in changes)
    return f"<m:return {XS}{XSI}><m:MessageNo>{number}</m:MessageNo>{entries}</m:return>"


def _entry(set_name: str, row: dict | None, key: tuple | None, *, tag: str) -> str:
    schema = SCHEMA[set_name]
    key_values = dict(zip(schema.key, key, strict=True)) if row is None else row
    keys = "".join(_prop("Key", name, key_values.get(name)) for name in schema.key)
    if row is None:
        return _wrap(tag, f"<m:Set>{set_name}</m:Set><m:Deleted>true</m:Deleted>{keys}")
    props = "".join(_prop("Property", name, row.get(name)) for name in schema.fields)
    tables = "".join(
        f"<m:Table><m:Name>{section}</m:Name>"
        + "".join(
            "<m:Row>"
            + "".join(_prop("Property", n, line.get(n)) for n in columns if n != "Ref_Key")
            + "</m:Row>"
            for line in row.get(section, [])
        )
        + "</m:Table>"
        for section, columns in schema.tabular.items()
    )
    body = f"<m:Set>{set_name}</m:Set><m:Deleted>false</m:Deleted>{keys}{props}{tables}"
    return _wrap(tag, body)


def _wrap(tag: str, body: str) -> str:
    namespaces = f" {XS}{XSI}" if tag == "return" else ""
    return f"<m:{tag}{namespaces}>{body}</m:{tag}>"


def _prop(tag: str, name: str, value: Any) -> str:
    if value is None:
        shown = '<m:Value xsi:nil="true"/>'
    else:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        shown = f"<m:Value>{escape(text)}</m:Value>"
    return f"<m:{tag}><m:Name>{escape(name)}</m:Name>{shown}</m:{tag}>"
