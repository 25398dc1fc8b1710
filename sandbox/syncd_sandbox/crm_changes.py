"""How an edit shows in RetailCRM's history: one record per changed field, named its way.

History names fields in snake_case and not always as the API does
(shared/reference/retailcrm-api.md §4.3, the official modules' objects.xml):
``managerId`` is ``manager`` (``{id}``), ``delivery.code`` is
``delivery_type``, ``delivery.address.text`` is ``delivery_address.text``,
``customFields.nps`` is ``custom_nps``; an item's change is
``order_product.<field>`` with the ``item`` it is about, a payment's
``payments.<field>`` with the ``payment``; adding or removing an item or a
payment is ``order_product`` / ``payments`` with ``null`` on one side.
References (status, types, stores) come as ``{"code": …}``.

    for change in changes_between(before, after, touched=["status", "items"]):
        record(change.field, change.old, change.new, **change.about)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

RENAMED = {"managerId": "manager", "countryIso": "country", "shipmentStore": "shipment_store"}
DELIVERY = {
    "code": "delivery_type",
    "service": "delivery_service",
    "cost": "delivery_cost",
    "netCost": "delivery_net_cost",
    "date": "delivery_date",
    "time": "delivery_time",
}
REFERENCES = {
    "status",
    "order_type",
    "order_method",
    "shipment_store",
    "delivery_type",
    "payments.status",
    "payments.type",
    "order_product.status",
}
# Computed by the account: they change with the fields above, not on their own.
NOT_RECORDED = {"id", "site", "slug", "summ", "totalSumm", "prepaySum", "purchaseSumm"}


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any
    about: dict = field(default_factory=dict)  # {"item": …} or {"payment": …}


def snake(name: str) -> str:
    """``firstName`` → ``first_name``, ``externalId`` → ``external_id``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def changes_between(before: dict, after: dict, touched: list[str]) -> list[Change]:
    """The history records the edit of ``touched`` fields makes, in field order."""
    out: list[Change] = []
    for name in touched:
        old, new = before.get(name), after.get(name)
        if name in NOT_RECORDED or old == new:
            continue
        if name == "customFields":
            old_map, new_map = _as_map(old), _as_map(new)
            for code in new_map:
                if old_map.get(code) != new_map[code]:
                    out.append(Change(f"custom_{code}", old_map.get(code), new_map[code]))
        elif name == "items":
            out += _rows("order_product", "item", old or [], new or [])
        elif name == "payments":
            out += _rows("payments", "payment", old or [], new or [])
        elif name == "delivery":
            out += _delivery(old or {}, new or {})
        elif name == "address":
            out += _parts("address", old or {}, new or {})
        elif name == "customer":
            out.append(Change("customer", _id_of(old), _id_of(new)))
        elif name == "managerId":
            out.append(Change("manager", _id_ref(old), _id_ref(new)))
        else:
            out.append(_value(RENAMED.get(name) or snake(name), old, new))
    return out


def _value(history_field: str, old: Any, new: Any) -> Change:
    if history_field in REFERENCES:
        return Change(history_field, _code(old), _code(new))
    return Change(history_field, old, new)


def _rows(kind: str, about: str, before: list, after: list) -> list[Change]:
    """Items or payments: added, removed, and each changed field of the same row (by id)."""
    old_rows = {row["id"]: row for row in before}
    new_rows = {row["id"]: row for row in after}
    out = []
    for row_id, row in new_rows.items():
        if row_id not in old_rows:
            out.append(Change(kind, None, _row_value(kind, row), {about: _stub(about, row)}))
            continue
        for name, value in row.items():
            if name in ("id", "prices", "discountTotal") or old_rows[row_id].get(name) == value:
                continue
            change = _value(f"{kind}.{snake(name)}", old_rows[row_id].get(name), value)
            out.append(Change(change.field, change.old, change.new, {about: _stub(about, row)}))
    for row_id, row in old_rows.items():
        if row_id not in new_rows:
            out.append(Change(kind, _row_value(kind, row), None, {about: _stub(about, row)}))
    return out


def _row_value(kind: str, row: dict) -> dict:
    if kind == "payments":
        return {"id": row["id"], "type": row.get("type")}
    return {"id": row["id"]}


def _stub(about: str, row: dict) -> dict:
    """The partial item or payment a history record carries."""
    if about == "item":
        offer = row.get("offer") or {}
        return {
            "id": row["id"],
            "offer": {k: offer[k] for k in ("id", "externalId", "xmlId") if k in offer},
        }
    return {k: row[k] for k in ("id", "type", "externalId", "status", "amount") if k in row}


def _delivery(before: dict, after: dict) -> list[Change]:
    out = []
    for name in dict.fromkeys([*before, *after]):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if name == "address":
            out += _parts("delivery_address", old or {}, new or {})
        elif name == "data":
            out += _parts("integration_delivery_data", old or {}, new or {})
        else:
            history_field = DELIVERY.get(name) or f"delivery_{snake(name)}"
            out.append(_value(history_field, _unwrap(old), _unwrap(new)))
    return out


def _parts(prefix: str, before: dict, after: dict) -> list[Change]:
    return [
        Change(f"{prefix}.{snake(name)}", before.get(name), after.get(name))
        for name in dict.fromkeys([*before, *after])
        if before.get(name) != after.get(name)
    ]


def _as_map(value: Any) -> dict:
    return dict(value) if isinstance(value, dict) else {}


def _code(value: Any) -> Any:
    return None if value is None else {"code": _unwrap(value)}


def _unwrap(value: Any) -> Any:
    """A reference written as ``{"code": …}`` or as the bare code."""
    return value.get("code") if isinstance(value, dict) and "code" in value else value


def _id_of(value: Any) -> dict | None:
    return {"id": value["id"]} if isinstance(value, dict) and "id" in value else None


def _id_ref(value: Any) -> dict | None:
    return None if value is None else {"id": value}
