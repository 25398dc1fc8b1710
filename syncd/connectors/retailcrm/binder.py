"""The CRM's binder for customers: which RetailCRM customer a person is.

A person is named to the CRM by an externalId (the 1C partner's ref, or
``syncd-<identity>`` for a buyer 1C does not know: ``flows/crm_customers``
picks it) and may have been known under others before (aliases).  The binder
is the one place that finds the CRM customer for that name, and ties one to
it:

- ``bound(keys)`` — the customers bound to any of these externalIds, in one
  call for a whole batch;
- ``to_external(key, aliases, match, bound)`` — the person's CRM customer:
  bound to ``key``, else to an alias, else a customer bound to nobody with one
  of the person's phones (compared in E.164) or its e-mail; ``None``: nobody
  (the caller creates one);
- ``to_internal(customer)`` — the externalId a CRM customer is bound to;
- ``bind(customer, key)`` — give a customer found by alias, phone or e-mail
  the person's externalId (``customers/fix-external-ids``; repeating it
  changes nothing).

    binder = CustomerBinder(client)
    bound = binder.bound(["p-1", "syncd-7"])
    found = binder.to_external("p-1", ["syncd-7"], Match(phones=["+79161234567"]), bound)
    if found is not None and binder.to_internal(found) != "p-1":
        binder.bind(found, "p-1")
"""

from __future__ import annotations

from collections.abc import Iterable

from syncd.connectors.retailcrm.actions import Match
from syncd.connectors.retailcrm.client import CrmClient
from syncd.mappings.transforms import phone_e164


class CustomerBinder:
    def __init__(self, client: CrmClient) -> None:
        self.client = client

    def bound(self, keys: Iterable[str]) -> dict[str, dict]:
        """The CRM customers bound to these externalIds, by externalId (one call)."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        found = self.client.customers({"externalIds": wanted})
        return {str(c.get("externalId")): c for c in found}

    def to_external(
        self, key: str, aliases: Iterable[str], match: Match, bound: dict[str, dict]
    ) -> dict | None:
        """The person's CRM customer (``bound``: from ``bound()``), or None."""
        found = bound.get(key)
        if found is None:
            # the same person under another externalId (e.g. syncd-<id> before its 1C
            # partner was known) is renamed, not duplicated
            found = next((bound[a] for a in aliases if a in bound), None)
        return found if found is not None else self.same_person(match)

    def same_person(self, match: Match) -> dict | None:
        """A CRM customer bound to nobody, with one of these phones (compared in
        E.164) or this e-mail (compared in lower case)."""
        for number in match.phones:
            for candidate in self.client.customers_by_phone(number.lstrip("+")):
                phones = [phone_e164(p.get("number")) for p in candidate.get("phones") or []]
                if number in phones and not self.to_internal(candidate):
                    return candidate
        if match.email:
            for candidate in self.client.customers_by_email(match.email):
                same = str(candidate.get("email", "")).lower() == match.email
                if same and not self.to_internal(candidate):
                    return candidate
        return None

    @staticmethod
    def to_internal(customer: dict) -> str | None:
        """The externalId the CRM customer is bound to (None: to nobody)."""
        external = customer.get("externalId")
        return str(external) if external else None

    def bind(self, customer: dict, key: str) -> None:
        """Bind the CRM customer to ``key`` (its externalId becomes ``key``)."""
        self.client.fix_customer_external_ids([{"id": customer["id"], "externalId": key}])
