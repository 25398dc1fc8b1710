"""The customer flow: a 1C partner becomes (or is linked to) one RetailCRM customer.

For each partner event (``Catalog_Партнеры``): the name is split into last,
first and middle name; phones are written in E.164 and e-mails in lower case
(customers.yaml).  The command is ``link_or_create``: the CRM sink uses the
customer bound to this partner (externalId), or else one with the same phone
or e-mail — giving it the partner's externalId — before it creates a new one,
so the same person is never entered twice.

    flows:
      - {name: customers_from_erp, kind: customer_sync, source_system: erp,
         entities: [customer], target: crm}
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from syncd.engine.contracts import Flow, FlowContext
from syncd.engine.pipeline import register
from syncd.flows.mapped import MappedFlow
from syncd.flows.purchases import crm_customer
from syncd.identity.keys import Record
from syncd.mappings.transforms import email, phone_e164
from syncd.model import Command, Event, Outcome, Plan

PHONE_KINDS = ("телефон", "phone")
EMAIL_KINDS = ("адресэлектроннойпочты", "email", "e-mail")


class CustomerSyncOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


@register
class CustomerSync(MappedFlow, Flow):
    kind = "customer_sync"
    Options = CustomerSyncOptions

    def plan(self, event: Event, ctx: FlowContext) -> Plan:
        mapping = self.mappings.customers
        if event.payload.get("set") != mapping.erp_set:
            return Plan(Outcome.UNCHANGED, note="not a partner")
        data = event.payload.get("data")
        if data is None:
            return Plan(Outcome.UNCHANGED, note="partner deleted in 1C: the CRM customer stays")
        customer = self.crm_customer(event.external_id, data)
        record = Record(
            "erp",
            event.external_id,
            " ".join(customer.get(k, "") for k in ("firstName", "lastName")).strip(),
            phones=[p["number"] for p in customer.get("phones", [])],
            emails=[customer["email"]] if customer.get("email") else [],
        )
        (assignment,) = ctx.identify([record])
        external, aliases = (
            crm_customer(ctx, assignment.identity)
            if assignment.identity is not None
            else (event.external_id, [])
        )
        customer["externalId"] = external
        match: dict[str, Any] = {}
        if "phone" in self.mappings.customers.match_by:
            match["phones"] = [p["number"] for p in customer.get("phones", [])]
        if "email" in self.mappings.customers.match_by and customer.get("email"):
            match["email"] = customer["email"]
        command = Command.for_event(
            target=self.target,
            entity="customer",
            key=external,
            payload={"customer": customer, "match": match, "aliases": aliases},
            cause=event,
            flow=self.name,
            action="link_or_create",
        )
        return Plan(Outcome.UPDATED, [command])

    def crm_customer(self, ref: str, data: dict) -> dict:
        mapping = self.mappings.customers
        parts = str(data.get(mapping.name) or "").split()
        customer: dict[str, Any] = {"externalId": ref}
        for key, value in zip(("lastName", "firstName", "patronymic"), parts, strict=False):
            customer[key] = value
        if len(parts) > 3:
            customer["patronymic"] = " ".join(parts[2:])
        phones, emails = [], []
        for row in data.get(mapping.contacts_section) or []:
            kind = str(row.get(mapping.contact_kind) or "").lower()
            value = row.get(mapping.contact_value)
            if kind in PHONE_KINDS:
                number = phone_e164(value, mapping.default_region)
                if number and number not in phones:
                    phones.append(number)
            elif kind in EMAIL_KINDS:
                address = email(value)
                if address and address not in emails:
                    emails.append(address)
        if phones:
            customer["phones"] = [{"number": n} for n in phones]
        if emails:
            customer["email"] = emails[0]
        return customer
