"""The order mapper: 1C order ↔ what syncd knows of it ↔ the CRM order.

Pure conversions driven by the mapping files (the OCA connector's "mapper"),
over 1C data already typed from ``$metadata`` (``connectors/onec/edm``):
flags are ``True``/``False``, numbers numbers, whatever path read them.
what an event from each side says about the order (its stage, its mapped
fields, its goods lines), and the CRM order to create from a 1C order.  The
flow uses it; ``syncd mappings preview`` uses it to show what would be
written.

    mapper = OrderMapper(load_mappings(folder), zones)
    erp = mapper.erp_side(order_from_1c); erp.stage = mapper.erp_stage(erp)
    order = mapper.crm_order(erp, mapper.crm_status_for(erp.stage))  # the CRM order's JSON
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from syncd.flows.order_payments import PAID, paid_value, with_paid_field
from syncd.flows.order_rules import rank
from syncd.flows.order_state import CrmSide, ErpSide
from syncd.mappings.load import Mappings
from syncd.mappings.transforms import Zones, get_path, set_path, to_crm
from syncd.model import Event

EMPTY_REF = "00000000-0000-0000-0000-000000000000"  # 1C's empty reference
DELIVERY_KEY = "Распоряжение"  # the delivery register's key: the order (or a shipment)


class OrderMapper:
    def __init__(self, mappings: Mappings, zones: Zones) -> None:
        self.mappings, self.zones = mappings, zones
        # the order's fields, with the CRM's payments among them when they go to 1C
        self.orders = with_paid_field(mappings.orders)

    def erp_ref(self, event: Event) -> tuple[str | None, dict | None]:
        """The 1C order an event is about, and the event's data (None: not an order's)."""
        payload = event.payload
        orders = self.mappings.orders
        if payload.get("set") == orders.state_set:
            key = payload.get("key") or {}
            return (str(key.get("Заказ") or "").lower() or None), payload.get("data")
        if orders.delivery_set and payload.get("set") == orders.delivery_set:
            key = payload.get("key") or {}
            # the register also tracks shipments (РеализацияТоваровУслуг): not an order's
            if str(key.get(f"{DELIVERY_KEY}_Type") or "").rsplit(".", 1)[-1] != orders.erp_set:
                return None, None
            return (str(key.get(DELIVERY_KEY) or "").lower() or None), payload.get("data")
        if payload.get("set") == orders.erp_set:
            return event.external_id, payload.get("data")
        return None, None

    def state_key(self, ref: str) -> str:
        """syncd's id of the order's state record (see connectors/onec/changes.key_text)."""
        return f"Заказ={ref};Заказ_Type=StandardODATA.{self.mappings.orders.erp_set}"

    def delivery_key(self, ref: str) -> str:
        """syncd's id of the order's assembly and delivery status record."""
        erp_set = self.mappings.orders.erp_set
        return f"{DELIVERY_KEY}={ref};{DELIVERY_KEY}_Type=StandardODATA.{erp_set}"

    def is_delivery(self, event: Event) -> bool:
        delivery_set = self.mappings.orders.delivery_set
        return bool(delivery_set) and event.payload.get("set") == delivery_set

    def take_state(self, erp: ErpSide, data: dict | None) -> None:
        """What the order's state record says (None: the record is gone, as on unposting)."""
        data = data or {}
        paid = self.mappings.orders.payment_state
        erp.state = data.get("Состояние")
        erp.paid_percent = _number(data.get(paid.percent)) if paid.percent else None
        erp.paid_amount = _number(data.get(paid.amount)) if paid.amount else None

    def take_delivery(self, erp: ErpSide, data: dict | None) -> None:
        """What the order's assembly and delivery record says (None: gone)."""
        erp.delivery = (data or {}).get("Статус") or None

    def erp_partner(self, data: dict) -> str | None:
        """The order's partner (its 1C ref), as ``erp_side`` reads it."""
        return _reference(data.get(self.mappings.orders.customer_field))

    def erp_side(self, data: dict) -> ErpSide:
        orders = self.mappings.orders
        fields = {
            fm.crm: _blank(to_crm(data.get(fm.erp), fm.transform, self.zones))
            for fm in self.orders.fields
            if fm.direction in ("erp_to_crm", "both")
        }
        lines = data.get(orders.items.section) or []
        return ErpSide(
            version=data.get("DataVersion"),
            status=data.get("Статус"),
            posted=data.get("Posted") is True,
            agreed=data.get(orders.agreed_field) if orders.agreed_field else None,
            fields=fields,
            lines=lines,
            all_cancelled=bool(lines) and all(self.line_cancelled(line) for line in lines),
            customer=self.erp_partner(data),
            total=data.get(orders.total_field) or 0.0,
            date=data.get("Date") or "",
        )

    def line_cancelled(self, line: dict) -> bool:
        """A goods line 1C cancelled (``Отменено`` is typed: only ``True`` counts)."""
        cancelled = self.mappings.orders.items.cancelled
        return bool(cancelled) and line.get(cancelled) is True

    def erp_stage(self, erp: ErpSide) -> str | None:
        statuses = self.mappings.statuses
        if erp.all_cancelled and statuses.erp_cancelled_stage:
            return statuses.erp_cancelled_stage
        by_status = statuses.erp_statuses.get(erp.status or "")
        new = statuses.new_order_stage
        if erp.agreed is False and rank(statuses, by_status) > rank(statuses, new):
            # written in that status but not posted: 1C does not count it agreed (the
            # warehouse sees nothing), so neither does syncd — the agreement is still owed
            by_status = new
        stages = [
            statuses.erp_states.get(erp.state or ""),
            statuses.erp_delivery.get(erp.delivery or ""),
            by_status,
        ]
        known = [s for s in stages if s]
        return max(known, key=lambda s: rank(statuses, s)) if known else None

    def crm_side(self, order: dict) -> CrmSide:
        status = order.get("status")
        fields = {fm.crm: _blank(get_path(order, fm.crm)) for fm in self.mappings.orders.fields}
        to_erp = self.mappings.orders.payments_to_erp
        if to_erp is not None:
            fields[PAID] = paid_value(order, to_erp)
        return CrmSide(
            id=order.get("id"),
            status=status,
            stage=self.mappings.statuses.crm.get(str(status)),
            fields=fields,
        )

    def crm_order(self, erp: ErpSide, status: str, customer: str | None = None) -> dict:
        """The CRM order to create (its JSON); ``customer``: the CRM customer's
        externalId, else the 1C partner's ref."""
        orders, items = self.mappings.orders, self.mappings.orders.items
        order: dict[str, Any] = {"status": status}
        for name, value in (erp.fields or {}).items():
            if value not in (None, ""):
                set_path(order, name, value)
        if orders.order_method:
            order["orderMethod"] = orders.order_method
        if orders.order_type:
            order["orderType"] = orders.order_type
        if customer or erp.customer:
            order["customer"] = {"externalId": customer or str(erp.customer).lower()}
        order["items"] = [
            {
                "offer": {"externalId": str(line.get(items.offer) or "").lower()},
                "quantity": line.get(items.quantity) or 0.0,
                "initialPrice": round(line.get(items.price) or 0.0, 2),
            }
            for line in erp.lines or []
            if not self.line_cancelled(line)
        ]
        return order

    def crm_status_for(self, stage: str) -> str:
        """The CRM status that shows ``stage``: the one syncd writes, else the first mapped."""
        statuses = self.mappings.statuses
        return statuses.crm_write.get(stage) or next(
            (code for code, s in statuses.crm.items() if s == stage), "new"
        )


def _reference(value: Any) -> Any:
    """A 1C reference, or None for the empty one (all zeros: "not filled in")."""
    return None if value in (None, "", EMPTY_REF) else value


def _number(value: Any) -> float | None:
    """A 1C number (typed from $metadata) as stored in the facts; None when absent."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _blank(value: Any) -> Any:
    """None and "" mean the same: an empty field (1C has no null strings)."""
    return "" if value is None else value


def newer_version(new: str | None, old: str | None) -> bool:
    """Is 1C's ``new`` DataVersion later than ``old``?  An 8-byte counter in base64
    where it decodes as one (УТ 11); otherwise (opaque) assume it is."""
    if not old or not new:
        return True
    try:
        a, b = base64.b64decode(new, validate=True), base64.b64decode(old, validate=True)
    except (ValueError, binascii.Error):
        return True
    if len(a) != 8 or len(b) != 8:
        return True
    return int.from_bytes(a, "big") >= int.from_bytes(b, "big")
