"""The sandbox 1C's data: objects, writes with 1C's rules, exchange-plan registrations.

Values are kept as they travel (GUIDs as lower-case text, dates as
``yyyy-mm-ddThh:mm:ss`` in the base's own zone, Int64 as int).  Every write
bumps ``DataVersion`` (an 8-byte counter in base64, even when nothing
changed) and registers the object for every exchange-plan node.  The quirks
of the real platform are kept on purpose, so syncd is tested against them:

- unknown fields are ignored, a bad Int64 is ignored, long strings truncated;
- a non-GUID into a reference or a non-boolean into a flag is 400, code 1;
- a tabular section in a body replaces the whole section; its LineNumber
  must run 1..N (2, 3… is 400; a missing one is 500);
- ``DELETE`` removes the object physically (counted in ``deletes``);
- writes in data-load mode (``1C_OData-DataLoadMode``) are counted too.

    state = ErpState()
    ref = state.create("Catalog_Склады", {"Description": "Основной склад"})["Ref_Key"]
"""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from syncd_sandbox.erp_query import ODataFault
from syncd_sandbox.erp_schema import EXCHANGE_PLAN, PLAN_CONTENT, SCHEMA, ObjectSchema

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
EMPTY_DATE = "0001-01-01T00:00:00"
MAX_LENGTH = {"Description": 100, "НомерПоДаннымКлиента": 50, "Number": 11, "Code": 11}
BLANK = {
    "Edm.Guid": EMPTY_GUID,
    "Edm.DateTime": EMPTY_DATE,
    "Edm.Boolean": False,
    "Edm.String": "",
    "Edm.Double": 0,
    "Edm.Int64": 0,
}

Key = tuple


def data_version(counter: int) -> str:
    return base64.b64encode(counter.to_bytes(8, "big")).decode("ascii")


def blank_row(columns: dict[str, str]) -> dict:
    return {name: BLANK.get(edm) for name, edm in columns.items()}


class ErpState:
    def __init__(self, timezone: str = "Europe/Moscow") -> None:
        self.lock = threading.RLock()
        self.zone = ZoneInfo(timezone)
        self.objects: dict[str, dict[Key, dict]] = {name: {} for name in SCHEMA}
        self.counters: dict[Key, int] = {}
        # exchange plan: node ref -> {(set, key): message number or None}
        self.registrations: dict[str, dict[tuple[str, Key], int | None]] = {}
        self.deletes = 0
        self.data_load_writes = 0
        self.writes = 0
        self.on_write: list[Callable[[str, Key], None]] = []
        self.now: Callable[[], datetime] = lambda: datetime.now(self.zone)

    # -- reading -------------------------------------------------------------
    def schema(self, set_name: str) -> ObjectSchema:
        if set_name not in SCHEMA:
            raise ODataFault(400, 6, f"segment not found: {set_name}")
        return SCHEMA[set_name]

    def rows(self, set_name: str) -> list[dict]:
        with self.lock:
            return list(self.objects[self.schema(set_name).name].values())

    def get(self, set_name: str, key: Key) -> dict:
        with self.lock:
            row = self.objects[self.schema(set_name).name].get(_norm(key))
            if row is None:
                raise ODataFault(404, 9, f"instance not found: {set_name}{key}")
            return row

    def find(self, set_name: str, **fields: Any) -> dict | None:
        return next(
            (r for r in self.rows(set_name) if all(r.get(k) == v for k, v in fields.items())),
            None,
        )

    def stamp(self) -> str:
        return self.now().replace(tzinfo=None, microsecond=0).isoformat()

    # -- writing -------------------------------------------------------------
    def create(
        self, set_name: str, body: dict, *, data_load: bool = False, ref: str | None = None
    ) -> dict:
        schema = self.schema(set_name)
        with self.lock:
            row = blank_row(schema.fields)
            for section in schema.tabular:
                row[section] = []
            if "Ref_Key" in schema.fields:
                row["Ref_Key"] = ref or str(uuid.uuid4())
            self._apply(schema, row, body)
            if schema.kind in ("info_register", "accumulation_register"):
                key = _norm(tuple(row[k] for k in schema.key))
                if key in self.objects[set_name]:
                    raise ODataFault(400, 15, f"key exists: {set_name}{key}")
            self._number(schema, row)
            return self._store(schema, row, data_load)

    def patch(self, set_name: str, key: Key, body: dict, *, data_load: bool = False) -> dict:
        schema = self.schema(set_name)
        with self.lock:
            row = dict(self.get(set_name, key))
            if body.get("DeletionMark") is True and row.get("Posted"):
                raise ODataFault(500, -1, "Проведенный документ не может быть помечен на удаление")
            self._apply(schema, row, body)
            return self._store(schema, row, data_load)

    def put_record(self, set_name: str, row: dict) -> dict:
        """Write a register record (set) whole, replacing the one with its key."""
        schema = self.schema(set_name)
        with self.lock:
            full = {**blank_row(schema.fields), **row}
            for section in schema.tabular:
                full.setdefault(section, [])
            return self._store(schema, full, data_load=False)

    def remove(self, set_name: str, key: Key, *, physical: bool = True) -> None:
        """Delete an object or a record set (``DELETE``: physical, no deletion mark)."""
        with self.lock:
            key = _norm(key)
            self.get(set_name, key)
            del self.objects[set_name][key]
            if physical:
                self.deletes += 1
            self._register(set_name, key)

    def _store(self, schema: ObjectSchema, row: dict, data_load: bool) -> dict:
        key = _norm(tuple(row[k] for k in schema.key))
        if schema.has_version:
            self.counters[key] = self.counters.get(key, 0) + 1
            row["DataVersion"] = data_version(self.counters[key])
        self.writes += 1
        self.data_load_writes += bool(data_load)
        self.objects[schema.name][key] = row
        self._register(schema.name, key)
        return row

    def _register(self, set_name: str, key: Key) -> None:
        for hook in self.on_write:
            hook(set_name, key)

    def _number(self, schema: ObjectSchema, row: dict) -> None:
        count = len(self.objects[schema.name]) + 1
        if schema.kind == "document":
            if not row.get("Number"):
                row["Number"] = f"ЗК-{count:08d}"[:11]
            if row.get("Date") in (None, EMPTY_DATE):
                row["Date"] = self.stamp()
        elif "Code" in schema.fields and not row.get("Code"):
            row["Code"] = f"{count:011d}"

    def _apply(self, schema: ObjectSchema, row: dict, body: dict) -> None:
        for name, value in body.items():
            if name in ("Ref_Key", "DataVersion") or "@" in name:
                continue  # 1C ignores a key or a version in the body
            if name in schema.tabular:
                row[name] = _section(schema, name, value, row.get("Ref_Key"))
            elif name in schema.fields:
                _assign(row, name, schema.fields[name], value)
            # unknown fields: ignored silently, as 1C does


def _assign(row: dict, name: str, edm: str, value: Any) -> None:
    if edm == "Edm.Guid":
        try:
            row[name] = str(uuid.UUID(str(value)))
        except ValueError:
            raise ODataFault(400, 1, f"cannot parse '{value}' as Edm.Guid ({name})") from None
    elif edm == "Edm.Boolean":
        if not isinstance(value, bool):
            raise ODataFault(400, 1, f"cannot parse '{value}' as Edm.Boolean ({name})")
        row[name] = value
    elif edm == "Edm.Int64":
        try:
            row[name] = int(value)
        except (TypeError, ValueError):
            pass  # 1C answers 200 and keeps the old value
    elif edm == "Edm.Double":
        try:
            row[name] = float(value)
        except (TypeError, ValueError):
            raise ODataFault(400, 4, f"bad value of property {name}: {value}") from None
    elif edm == "Edm.DateTime":
        text = str(value or EMPTY_DATE)
        try:
            datetime.fromisoformat(text)
        except ValueError:
            raise ODataFault(400, 1, f"cannot parse '{value}' as Edm.DateTime ({name})") from None
        row[name] = text[:19]
    else:
        text = "" if value is None else str(value)
        row[name] = text[: MAX_LENGTH[name]] if name in MAX_LENGTH else text


def _section(schema: ObjectSchema, name: str, value: Any, ref: str | None) -> list[dict]:
    if not isinstance(value, list):
        raise ODataFault(400, 2, f"bad request format: {name} must be a collection")
    columns = schema.tabular[name]
    rows = []
    for position, item in enumerate(value, start=1):
        if "LineNumber" in columns and item.get("LineNumber") is None:
            raise ODataFault(500, -1, f"{name}: LineNumber is missing in row {position}")
        if "LineNumber" in columns and int(item["LineNumber"]) != position:
            raise ODataFault(400, 4, f"{name}: LineNumber {item['LineNumber']} at row {position}")
        row = blank_row(columns)
        for column, cell in item.items():
            if column in columns and column != "Ref_Key":
                _assign(row, column, columns[column], cell)
        if "Ref_Key" in columns:
            row["Ref_Key"] = ref
        rows.append(row)
    return rows


def _norm(key: Key) -> Key:
    return tuple(str(k).lower() if _is_guid(k) else k for k in key)


def _is_guid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
        return len(str(value)) == 36
    except ValueError:
        return False


def node_ref(code: str) -> str:
    """The Ref_Key of the node with this code: the same every time the sandbox starts."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"syncd-sandbox-node:{code}"))


class ExchangePlan:
    """Change registration for the plan's nodes, as ``ПланыОбмена`` keeps it.

    Every write registers the object for every node.  ``select`` hands out
    all registered changes and stamps the unstamped ones with the message
    number; ``confirm`` drops those stamped with that number or lower.  An
    object written again after ``select`` is registered afresh (unstamped),
    so confirming the older message keeps the newer change.
    """

    def __init__(self, state: ErpState) -> None:
        self.state = state
        state.on_write.append(self.register)
        self.selects = 0

    def add_node(self, code: str, description: str) -> str:
        ref = node_ref(code)
        body = {"Code": code, "Description": description}
        node = self.state.create(EXCHANGE_PLAN, body, ref=ref)
        self.state.registrations[node["Ref_Key"]] = {}
        return node["Ref_Key"]

    def register(self, set_name: str, key: Key) -> None:
        if set_name not in PLAN_CONTENT:
            return
        for changes in self.state.registrations.values():
            changes.pop((set_name, key), None)  # re-registration clears the stamp
            changes[(set_name, key)] = None

    def select(self, node: str, message_no: int) -> list[tuple[str, Key, dict | None]]:
        with self.state.lock:
            changes = self._changes(node)
            self.selects += 1
            out = []
            for (set_name, key), stamp in changes.items():
                if stamp is None:
                    changes[(set_name, key)] = message_no
                out.append((set_name, key, self.state.objects[set_name].get(key)))
            return out

    def confirm(self, node: str, message_no: int) -> None:
        with self.state.lock:
            changes = self._changes(node)
            for ref, stamp in list(changes.items()):
                if stamp is not None and stamp <= message_no:
                    del changes[ref]
            node_row = self.state.get(EXCHANGE_PLAN, (node,))
            node_row["ReceivedNo"] = message_no

    def pending(self, node: str) -> int:
        return len(self._changes(node))

    def _changes(self, node: str) -> dict:
        changes = self.state.registrations.get(str(node).lower())
        if changes is None:
            raise ODataFault(404, 9, f"exchange node not found: {node}")
        return changes
