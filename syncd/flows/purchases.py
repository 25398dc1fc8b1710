"""Purchase history: every offline receipt under one CRM customer, with the customer's figures.

For a receipt (``pos_drop`` event): its buyer (card, phone, e-mail, name) is
tied to a customer by the identity index; a receipt nobody can be recognised
on is an anonymous sale and stays out of the CRM.  Then:

- the CRM customer is linked or created (``link_or_create``): its externalId
  is the 1C partner's when the person is one, else ``syncd-<customer>``;
- the purchase becomes a CRM order (``pos-<group>-<receipt>``: site of the
  store group, orderMethod offline, status complete, createdAt from the
  receipt), uploaded 50 a call after the customer;
- the customer's figures (redemption rate, LTV, order counts, average check,
  last purchase) are updated and written to its custom fields (``figures``:
  the receipt counts once, however often it is planned).

Returns are deducted from LTV and not loaded as orders.

    flows:
      - {name: purchases, kind: purchase_history, source_system: pos,
         entities: [receipt], target: crm}
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from pydantic import BaseModel, ConfigDict

from syncd.connectors.retailcrm.actions import LinkOrCreate, Upsert
from syncd.engine.contracts import Flow, FlowContext
from syncd.engine.pipeline import register
from syncd.flows import customer_figures as cf
from syncd.flows import figures
from syncd.flows.crm_customers import crm_customer, customer_payload, match_of
from syncd.flows.mapped import MappedFlow
from syncd.identity.keys import Record
from syncd.model import Command, Event, Outcome, Plan


class PurchaseOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    complete_status: str = "complete"


@register
class PurchaseHistory(MappedFlow, Flow):
    kind = "purchase_history"
    Options = PurchaseOptions

    def people(self, event: Event) -> list[Record]:
        receipt = event.payload
        buyer = receipt.get("buyer") or {}
        return [
            Record(
                f"pos:{receipt.get('group', '')}",
                str(receipt.get("receipt_id")),
                str(buyer.get("name") or ""),
                phones=[buyer.get("phone") or ""],
                emails=[buyer.get("email") or ""],
                cards=[buyer.get("card") or ""],
                receipt=True,
                birth_date=str(buyer.get("birth_date") or ""),
            )
        ]

    def plan(self, event: Event, ctx: FlowContext) -> Plan:
        receipt = event.payload
        (record,) = self.people(event)
        (assignment,) = ctx.identify([record])
        if assignment.identity is None:
            return Plan(Outcome.UNCHANGED, note="an anonymous purchase: no card, phone or e-mail")
        identity = assignment.identity
        external, aliases = crm_customer(ctx, identity)
        ref = cf.customer_ref(identity)
        figs, remember = self.figures(ctx, identity, receipt)
        customer = customer_payload(record, self.mappings.customers.default_region)
        customer["customFields"] = cf.fields_of(self.mappings, figs)
        match = match_of(customer, self.mappings.customers.match_by)
        commands = [
            Command.for_event(
                target=self.target,
                entity="customer",
                key=external,
                cause=event,
                flow=self.name,
                action=LinkOrCreate(customer=customer, match=match, aliases=aliases),
            )
        ]
        if receipt.get("operation") != "return":
            commands.append(
                Command.for_event(
                    target=self.target,
                    entity="order",
                    cause=event,
                    flow=self.name,
                    seq=1,
                    key=f"pos-{receipt.get('group')}-{receipt.get('receipt_id')}",
                    action=Upsert.model_validate(self.crm_order(receipt, external)),
                )
            )
        return Plan(Outcome.UPDATED, commands, remember={**remember, ref: figs})

    def figures(self, ctx: FlowContext, identity: int, receipt: dict) -> tuple[dict, dict]:
        """The customer's figures with this receipt, and the facts to remember with them.

        A receipt counts once however often it is planned (a replay, a corrected
        export, a 1C:Розница receipt changed): live, its entry is replaced; folded,
        its record (on its CRM order's binding) takes it out of ``settled`` first.
        """
        figs = ctx.facts(*cf.customer_ref(identity)) or {}
        key = f"{receipt.get('group')}:{receipt.get('receipt_id')}"
        held = cf.receipt_ref(receipt.get("group"), receipt.get("receipt_id"))
        remember = cf.legacy_records(ctx, identity, figs) if figures.is_legacy(figs) else {}
        was = None
        if key not in figs.get("offline", {}) and figures.may_hold(figs, "offline"):
            record = (ctx.facts(*held) or {}).get(cf.RECORD)  # a lookup only then
            was = cf.counted_before(record, identity)
        entry = figures.offline_entry(
            receipt.get("total") or 0,
            str(receipt.get("at") or ""),
            receipt.get("operation") == "return",
        )
        figs = figures.count(figs, "offline", key, entry, was, cf.rules_of(self.mappings))
        remember[held] = {cf.RECORD: cf.record(entry, identity)}  # the binding holds only that
        return figs, remember

    def crm_order(self, receipt: dict, customer: str) -> dict[str, Any]:
        mapping = self.mappings.customers
        order: dict[str, Any] = {
            "status": self.options.complete_status,
            "orderMethod": mapping.offline_order_method,
            "createdAt": _crm_time(str(receipt.get("at") or ""), self.zones.crm),
            "customer": {"externalId": customer},
            "items": [
                {
                    "offer": {"externalId": str(i.get("sku") or "")} if i.get("sku") else {},
                    "productName": i.get("name") or "",
                    "quantity": float(i.get("quantity") or 1),
                    "initialPrice": round(
                        float(i.get("price") or (i.get("amount") or 0) / (i.get("quantity") or 1)),
                        2,
                    ),
                }
                for i in receipt.get("items") or []
            ],
            "customFields": {"pos_store": receipt.get("store") or ""},
        }
        site = receipt.get("site") or mapping.offline_site
        if site:
            order["site"] = site
        return order


def _crm_time(iso: str, account_zone: tzinfo) -> str:
    """The receipt's time as RetailCRM writes dates: naive, in the account's zone."""
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is not None:
        moment = moment.astimezone(account_zone)
    return moment.strftime("%Y-%m-%d %H:%M:%S")
