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

from pydantic import BaseModel, ConfigDict

from syncd.connectors.retailcrm.actions import LinkOrCreate
from syncd.engine.contracts import Flow, FlowContext
from syncd.engine.pipeline import register
from syncd.flows.crm_customers import crm_customer, customer_payload, match_of
from syncd.flows.mapped import MappedFlow
from syncd.identity.keys import Record
from syncd.model import Command, Event, Outcome, Plan

PHONE_KINDS = ("телефон", "phone")
EMAIL_KINDS = ("адресэлектроннойпочты", "email", "e-mail")


class CustomerSyncOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


@register
class CustomerSync(MappedFlow, Flow):
    kind = "customer_sync"
    Options = CustomerSyncOptions

    def people(self, event: Event) -> list[Record]:
        data = event.payload.get("data")
        if event.payload.get("set") != self.mappings.customers.erp_set or data is None:
            return []
        return [self.partner_record(event.external_id, data)]

    def plan(self, event: Event, ctx: FlowContext) -> Plan:
        mapping = self.mappings.customers
        if event.payload.get("set") != mapping.erp_set:
            return Plan(Outcome.UNCHANGED, note="not a partner")
        data = event.payload.get("data")
        if data is None:
            return Plan(Outcome.UNCHANGED, note="partner deleted in 1C: the CRM customer stays")
        record = self.partner_record(event.external_id, data)
        (assignment,) = ctx.identify([record])
        external, aliases = (
            crm_customer(ctx, assignment.identity)
            if assignment.identity is not None
            else (event.external_id, [])
        )
        customer = {**customer_payload(record, mapping.default_region), "externalId": external}
        match = match_of(customer, mapping.match_by)
        command = Command.for_event(
            target=self.target,
            entity="customer",
            key=external,
            cause=event,
            flow=self.name,
            action=LinkOrCreate(customer=customer, match=match, aliases=aliases),
        )
        return Plan(Outcome.UPDATED, [command])

    def partner_record(self, ref: str, data: dict) -> Record:
        """The 1C partner as an identity record: its name, phones and e-mails as written."""
        mapping = self.mappings.customers
        phones, emails = [], []
        for row in data.get(mapping.contacts_section) or []:
            kind = str(row.get(mapping.contact_kind) or "").lower()
            value = str(row.get(mapping.contact_value) or "")
            if kind in PHONE_KINDS:
                phones.append(value)
            elif kind in EMAIL_KINDS:
                emails.append(value)
        born = str(data.get(mapping.birth_date) or "") if mapping.birth_date else ""
        name = str(data.get(mapping.name) or "")
        return Record("erp", ref, name, phones=phones, emails=emails, birth_date=born)

    def crm_customer(self, ref: str, data: dict) -> dict:
        """The CRM customer a partner becomes (keyed by its own Ref_Key)."""
        region = self.mappings.customers.default_region
        return {"externalId": ref, **customer_payload(self.partner_record(ref, data), region)}
