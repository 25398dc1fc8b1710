"""Reading sandbox 1C URLs, and the routes that act as a 1C user.

``Document_X(guid'…')/Post`` → set, key text, action; a key is either one
``guid'…'`` or ``Name=literal,…`` (``datetime'…'``, ``'text'`` with ``''``).

User routes (sandbox only, JSON in and out), relative to ``/sandbox/user/``:
- ``POST orders`` ``{"partner": ref?, "lines": [[item, qty, price]]?, "site_number": …}``
- ``POST orders/<ref>/ship`` · ``…/close`` · ``…/cancel`` · ``…/edit`` (body: fields)
- ``POST orders/<ref>/refuse-posting`` ``{"message": …}`` (the next Post is refused)
- ``POST stock/receive`` · ``stock/plan-shipment`` ``{"item", "warehouse", "quantity",
  "characteristic"?}`` (goods arrive: ВНаличии up; goods ordered out: КОтгрузке up)
"""

from __future__ import annotations

import random
import re
from typing import Any

from syncd_sandbox.erp_query import ODataFault
from syncd_sandbox.erp_schema import ObjectSchema
from syncd_sandbox.erp_state import EMPTY_GUID

RESOURCE = re.compile(r"^(?P<set>[^()/]+)(?:\((?P<key>.*)\))?(?:/(?P<action>[^/]+))?$")
KEY_PART = re.compile(
    r"\s*(?:(?P<name>[^\W\d][\w]*)\s*=\s*)?"
    r"(?:(?:guid|datetime)'(?P<typed>[^']*)'|'(?P<text>(?:[^']|'')*)'|(?P<number>-?\d+))\s*(?:,|$)"
)


def parse_resource(rest: str) -> tuple[str, str | None, str | None]:
    m = RESOURCE.match(rest)
    if not m:
        raise ODataFault(400, 6, f"bad URL: {rest}")
    return m["set"], m["key"], m["action"]


def parse_key(text: str, schema: ObjectSchema) -> tuple:
    values: dict[str, Any] = {}
    pos, unnamed = 0, []
    while pos < len(text):
        m = KEY_PART.match(text, pos)
        if not m or m.end() == pos:
            raise ODataFault(400, 7, f"key part missing or malformed: {text}")
        pos = m.end()
        if m["typed"] is not None:
            value: Any = m["typed"].lower() if _guidish(m["typed"]) else m["typed"]
        elif m["text"] is not None:
            value = m["text"].replace("''", "'")
        else:
            value = int(m["number"])
        if m["name"]:
            values[m["name"]] = value
        else:
            unnamed.append(value)
    if unnamed and len(schema.key) == 1 and not values:
        return (unnamed[0],)
    missing = [k for k in schema.key if k not in values]
    if missing:
        raise ODataFault(400, 7, f"key part missing: {', '.join(missing)}")
    return tuple(values[k] for k in schema.key)


def _guidish(text: str) -> bool:
    return len(text) == 36 and text.count("-") == 4


def user_action(trade: Any, method: str, rest: str, body: Any) -> tuple[int, Any]:
    """What a 1C user does, for tests and the demo."""
    if method != "POST":
        return 405, {"error": "POST only"}
    parts = rest.strip("/").split("/")
    try:
        if parts == ["orders"]:
            return 201, _new_order(trade, body or {})
        if len(parts) == 2 and parts[0] == "stock" and parts[1] in ("receive", "plan-shipment"):
            move = trade.receive_stock if parts[1] == "receive" else trade.plan_shipment
            b = body or {}
            args = (b["item"], b["warehouse"], float(b["quantity"]))
            return 201, move(*args, b.get("characteristic") or EMPTY_GUID)
        if len(parts) == 3 and parts[0] == "orders":
            ref, action = parts[1], parts[2]
            if action == "ship":
                return 200, trade.ship(ref)
            if action == "close":
                return 200, trade.close(ref)
            if action == "cancel":
                return 200, trade.cancel(ref)
            if action == "edit":
                return 200, trade.manager_edit(ref, body or {})
            if action == "refuse-posting":
                trade.refusals[ref] = (body or {}).get("message", "Недостаточно прав")
                return 200, {"refused": ref}
    except ODataFault as fault:
        return fault.status, {"error": fault.message}
    except ValueError as exc:
        return 409, {"error": str(exc)}
    return 404, {"error": f"no such sandbox action: {rest}"}


def _new_order(trade: Any, body: dict) -> dict:
    rnd = random.Random(body.get("seed"))
    partner = body.get("partner") or rnd.choice(trade.state.rows("Catalog_Партнеры"))["Ref_Key"]
    lines = body.get("lines")
    if not lines:
        goods = trade.state.rows("Catalog_Номенклатура")
        lines = [
            (g["Ref_Key"], rnd.randint(1, 3), float(rnd.randint(5, 500) * 10))
            for g in rnd.sample(goods, k=min(2, len(goods)))
        ]
    return trade.new_site_order(
        partner,
        [tuple(line) for line in lines],
        site_number=body.get("site_number", ""),
        status=body.get("status", "НеСогласован"),
    )


SOAP_NAME = "ОбменЗаказами"


def soap_service(trade: Any, user: str | None, password: str | None) -> Any:
    """An integrator's own web service ``/ws/ОбменЗаказами.1cws``, as many bases publish one
    (Cyrillic operation and parameter names; syncd's own is ``erp_syncd_exchange``)."""
    from syncd_sandbox.erp_soap import Operation, SandboxSoapService, SoapFault

    def set_status(Ссылка: str | None, Статус: str | None) -> str:  # noqa: N803
        try:
            trade.write("Document_ЗаказКлиента", (Ссылка,), {"Статус": Статус}, data_load=False)
            trade.post("Document_ЗаказКлиента", (Ссылка,))
        except ODataFault as fault:
            raise SoapFault(fault.message) from None
        return "OK"

    def changed(НачалоПериода: str | None) -> list[dict]:  # noqa: N803
        since = НачалоПериода or ""
        return [
            {
                "Ссылка": row["Ref_Key"],
                "Номер": row["Number"],
                "Статус": row["Статус"],
                "Согласован": "true" if row["Согласован"] else "false",
                "ВерсияДанных": row["DataVersion"],
            }
            for row in trade.state.rows("Document_ЗаказКлиента")
            if row["Date"] >= since
        ]

    fields = ["Ссылка", "Номер", "Статус", "Согласован", "ВерсияДанных"]
    return SandboxSoapService(
        SOAP_NAME,
        "http://syncd.example/exchange",
        {
            "УстановитьСтатусЗаказа": Operation(["Ссылка", "Статус"], set_status),
            "ИзмененныеЗаказы": Operation(["НачалоПериода"], changed, returns=fields),
        },
        user=user,
        password=password,
    )
