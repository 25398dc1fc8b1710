"""Free stock from 1C into syncd's store and the CRM (flow ``stock_sync``).

An event ``erp/stock/<offer>`` (``connectors.onec.stock_source``) carries an
offer's free stock in each store, named the CRM's way.  The flow compares it
with the stock syncd keeps (``ctx.stock``, this batch's own rows included):

- nothing differs → unchanged, nothing written;
- else the changed rows are kept (``Plan.stock``: the order robot reads them)
  and one ``inventory`` command pushes the offer's stock in every store it
  has to the CRM's ``store/inventories/upload`` (``retailcrm_inventory``
  sink).  The command carries the whole picture of the offer, so planning
  drops it when it equals the last one pushed.

Pure: the store is read through ``ctx``; nothing is written but the plan.

    flows:
      - {name: stock_to_crm, kind: stock_sync, source_system: erp,
         entities: [stock], target: crm_stock}
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from syncd.connectors.retailcrm.actions import Inventory, StoreStock
from syncd.engine.contracts import Flow, FlowContext
from syncd.engine.pipeline import register
from syncd.model import Command, Event, Outcome, Plan


def amounts(stores: Any) -> dict[str, Decimal]:
    """The event's ``stores`` as exact amounts; ValueError naming a store that is not one."""
    if not isinstance(stores, dict) or not stores:
        raise ValueError("payload.stores: expected {store code: available}")
    found: dict[str, Decimal] = {}
    for code, value in stores.items():
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"payload.stores.{code}: not a number: {value!r}") from None
        if not amount.is_finite() or amount < 0:
            raise ValueError(f"payload.stores.{code}: expected 0 or more, got {value!r}")
        found[str(code)] = amount
    return found


def crm_number(amount: Decimal) -> float | int:
    """An amount as the CRM's JSON number (whole numbers without a fraction)."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


@register
class StockFlow(Flow):
    kind = "stock_sync"

    def plan(self, event: Event, ctx: FlowContext) -> Plan:
        offer = str(event.payload.get("offer") or event.external_id)
        wanted = amounts(event.payload.get("stores"))
        kept = {r["store"]: Decimal(r["available"]) for r in ctx.stock([offer])}
        changed = [
            (offer, store, amount)
            for store, amount in sorted(wanted.items())
            if kept.get(store, Decimal(0)) != amount  # a store never kept counts as 0
        ]
        if not changed:
            return Plan(Outcome.UNCHANGED, note="stock as kept")
        now = {**kept, **{store: amount for _, store, amount in changed}}
        action = Inventory(
            stores=[StoreStock(code=s, available=crm_number(a)) for s, a in sorted(now.items())],
            **({"site": event.payload["site"]} if event.payload.get("site") else {}),
        )
        command = Command.for_event(
            target=self.target,
            entity="inventory",
            key=offer,
            cause=event,
            flow=self.name,
            action=action,
            link_origin=False,
        )
        return Plan(Outcome.UPDATED, commands=[command], stock=changed)
