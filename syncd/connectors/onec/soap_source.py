"""Changes from 1C through the SyncdExchange web service, where OData is not published.

The same exchange plan as ``erp_exchange``, read through the web service syncd
ships (``contrib/1c/SyncdExchange``): ``ReceivedNo``, ``SelectChanges`` and
``NotifyChangesReceived`` for syncd's node (by its code), with the same cursor
(the message number), the same batching, and the same rule: a message is
confirmed only once its events and the cursor are committed.  The service
answers every entry with OData's property names and 1C's XML strings, and
``Describe`` answers the CSDL of what it serves; so the entries go through the
same ``EntryReader`` as Atom packages and give the same events, fingerprints
included, as the OData path would for the same objects.

A message that cannot be read (not XML, a DTD or an entity, not the WSDL's
shape) is set aside once as a dead letter and confirmed; a SOAP Fault (the node
unknown, rights missing) fails the poll and is tried again at the next one; a
transport failure is retried with backoff.

    erp:
      soap: {wsdl_url: https://erp.example.internal/ut11/ws/SyncdExchange.1cws?wsdl}
    sources:
      - name: erp_changes
        kind: erp_soap
        system: erp
        options:
          node: syncd                           # the code of syncd's node
          sets: {Document_ЗаказКлиента: order}
"""

from __future__ import annotations

import threading
from typing import Any
from xml.etree.ElementTree import Element

from pydantic import BaseModel, ConfigDict, Field

from syncd.connectors.onec.changes import EntryReader
from syncd.connectors.onec.connection import erp_soap_for
from syncd.connectors.onec.errors import ErpNotFound
from syncd.connectors.onec.exchange_source import ErpExchangeSource
from syncd.connectors.onec.metadata import Metadata
from syncd.connectors.onec.nudges import Nudges
from syncd.connectors.onec.soap import ErpPoisonAnswer, ErpSoapClient, local_name
from syncd.engine.pipeline import register

Entry = tuple[str, dict | None, dict | None]  # (set, key, data or None when gone)
NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


class SoapOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    node: str = Field(..., min_length=1, description="the code of syncd's exchange-plan node")
    sets: dict[str, str] = Field(..., min_length=1, description="1C set -> syncd entity")
    packages_per_poll: int = Field(5, ge=1)
    webhook_path: str = "/webhooks/1c"


class SoapExchangeNode:
    """syncd's node of the exchange plan, through the SyncdExchange web service."""

    def __init__(self, soap: ErpSoapClient, code: str) -> None:
        self.soap, self.code = soap, code

    def received_no(self) -> int:
        return int(self.soap.call("received_no", Node=self.code) or 0)

    def changes(self, message_no: int) -> list[Entry]:
        """The message's entries, read from the answer's XML as written (an empty
        string and a nil differ there, as in an Atom package)."""
        answer = self.soap.call_xml("select_changes", Node=self.code, MessageNo=message_no)
        changes = _child(answer, "return")
        if changes is None:
            raise ErpPoisonAnswer(0, None, f"SelectChanges message {message_no}: no return")
        try:
            return [_entry(e) for e in changes if local_name(e.tag) == "Entry"]
        except KeyError as exc:
            where = f"SelectChanges message {message_no}"
            raise ErpPoisonAnswer(0, None, f"{where}: an entry without {exc}") from None

    def confirm(self, message_no: int) -> None:
        self.soap.call("notify_changes_received", Node=self.code, MessageNo=message_no)


class SoapObjects:
    """Objects as 1C holds them now, through ``GetObject`` (the sink's reads where no
    OData is published), typed by the service's ``Describe`` like every other read."""

    def __init__(self, soap: ErpSoapClient) -> None:
        self.soap = soap
        self._meta: Metadata | None = None
        self._lock = threading.Lock()

    def metadata(self) -> Metadata:
        with self._lock:
            if self._meta is None:
                self._meta = Metadata.parse(self.soap.call("describe"))
            return self._meta

    def read(self, set_name: str, ref: str) -> dict:
        """The object's data; :class:`ErpNotFound` when 1C no longer has it."""
        answer = self.soap.call_xml("get_object", Set=set_name, Ref=ref)
        entry = _child(answer, "return")
        if entry is None or entry.get(NIL) in ("true", "1"):
            raise ErpNotFound(404, None, f"GetObject: {set_name} {ref} is not in 1C")
        try:
            _, _, data = _entry(entry)
        except KeyError as exc:
            raise ErpPoisonAnswer(0, None, f"GetObject {set_name} {ref}: without {exc}") from None
        return self.metadata().entity(set_name).normalize(data or {})


def _entry(element: Element) -> Entry:
    """An ``Entry`` as the triple an Atom entry gives: OData names, values as text
    (``""`` for an empty value, None for ``xsi:nil``)."""
    set_name, deleted = _text(element, "Set"), _text(element, "Deleted")
    if not set_name or deleted not in ("true", "false", "1", "0"):
        raise KeyError("its Set and Deleted")
    key = _properties(element, "Key")
    if deleted in ("true", "1"):
        return set_name, key, None
    data = _properties(element, "Property")
    for table in (c for c in element if local_name(c.tag) == "Table"):
        rows = [_properties(row, "Property") for row in table if local_name(row.tag) == "Row"]
        data[_text(table, "Name") or ""] = rows
    return set_name, key, data


def _properties(element: Element, tag: str) -> dict:
    found = {}
    for item in (c for c in element if local_name(c.tag) == tag):
        name, value = _child(item, "Name"), _child(item, "Value")
        if name is None or not name.text or value is None:
            raise KeyError(f"a {tag}'s Name and Value")
        found[name.text] = None if value.get(NIL) in ("true", "1") else (value.text or "")
    return found


def _child(element: Element, tag: str) -> Element | None:
    return next((c for c in element if local_name(c.tag) == tag), None)


def _text(element: Element, tag: str) -> str | None:
    child = _child(element, tag)
    return None if child is None else (child.text or "").strip()


@register
class ErpSoapSource(ErpExchangeSource):
    kind = "erp_soap"
    Options = SoapOptions

    def __init__(self, *args: Any) -> None:  # noqa: D107 - the base's, over SOAP
        super(ErpExchangeSource, self).__init__(*args)
        self.client = None  # no OData here
        soap = erp_soap_for(self.context)
        self.node = SoapExchangeNode(soap, self.options.node)  # type: ignore[assignment]
        self.objects = SoapObjects(soap)
        # a nudge wakes the stream: the next message carries what it names
        self.nudges = Nudges(self.options.sets, self.options.webhook_path, self._known_metadata)
        self._reader: EntryReader | None = None

    def _metadata(self) -> Metadata:
        return self.objects.metadata()  # the service's Describe
