"""The CRM customer of a person, as the flows name and describe it (pure).

The flows' half of binding customers to the CRM (the sink's half, which finds
the customer in the CRM by these names, phones and e-mail, is
``connectors/retailcrm/binder.py``):

- ``crm_customer`` — the externalId the person has in the CRM: its first 1C
  partner's ref, else ``syncd-<identity>``; and the other names it may be
  known under there from before (``syncd-<identity>``, its other partners);
- ``customer_payload`` — the CRM customer of a record: the name split into
  last, first and middle name, phones in E.164, an e-mail;
- ``match_of`` — what the sink may look the customer up by before creating
  one (customers.yaml ``match_by``).

    external, aliases = crm_customer(ctx, identity)
    customer = customer_payload(record, "RU") | {"externalId": external}
    match = match_of(customer, ["phone", "email"])
"""

from __future__ import annotations

from typing import Any

from syncd.engine.contracts import FlowContext
from syncd.identity.keys import Record, email, phone
from syncd.identity.people import calendar_date


def crm_customer(ctx: FlowContext, identity: int) -> tuple[str, list[str]]:
    """The customer's CRM externalId (the first 1C partner's, else syncd-<id>) and aliases."""
    partners = [i for s, i in ctx.customer_ids(identity) if s == "erp"]
    own = f"syncd-{identity}"
    external = partners[0] if partners else own
    aliases = [a for a in [own, *partners] if a != external]
    return external, aliases


def customer_payload(record: Record, region: str) -> dict[str, Any]:
    """A CRM customer from a record: "Фамилия Имя Отчество" split, E.164 phones, an e-mail."""
    parts = record.name.split()
    customer: dict[str, Any] = {}
    for key, value in zip(("lastName", "firstName", "patronymic"), parts, strict=False):
        customer[key] = value
    if len(parts) > 3:
        customer["patronymic"] = " ".join(parts[2:])
    phones = list(dict.fromkeys(filter(None, (phone(p, region) for p in record.phones))))
    if phones:
        customer["phones"] = [{"number": p} for p in phones]
    emails = list(filter(None, map(email, record.emails)))
    if emails:
        customer["email"] = emails[0]
    if born := calendar_date(record.birth_date):  # only where customers.yaml maps one
        customer["birthday"] = born
    return customer


def match_of(customer: dict[str, Any], match_by: list[str]) -> dict[str, Any]:
    """What the CRM sink may look a customer up by, before creating one (customers.yaml)."""
    match: dict[str, Any] = {}
    if "phone" in match_by:
        match["phones"] = [p["number"] for p in customer.get("phones", [])]
    if "email" in match_by and customer.get("email"):
        match["email"] = customer["email"]
    return match
