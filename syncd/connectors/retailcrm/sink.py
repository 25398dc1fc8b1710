"""The CRM sink: applies syncd's commands to RetailCRM, idempotently.

Actions (``Command.action``), each addressed by the externalId syncd controls
(``Command.key``):

- ``upsert`` — orders/customers go through ``*/upload`` in batches of 50 (the
  API's limit).  Every item ends one of three ways, whichever form the answer
  takes (200 ``success: true`` with ``failedOrders``, or 460): uploaded; in
  the CRM already (refused as a duplicate, or left out of the answer, and
  found by externalId) — bound by the id found and edited to the payload, so
  a repeat is harmless; or failed for good with the reason, naming the
  externalId, for the dead letters;
- ``edit`` — a partial edit in one call (a status together with its payments);
- ``fix_external_id`` — give a CRM-born object (payload ``{"id": …}``) its
  externalId.

The engine records the fingerprint of what was written in the bindings, and
the CRM id the account gave (``remote_id``).
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from syncd.connectors.retailcrm.client import client_for
from syncd.connectors.retailcrm.errors import CrmError
from syncd.engine.contracts import Result, Sink
from syncd.engine.pipeline import register
from syncd.errors import PermanentError
from syncd.mappings.transforms import phone_e164
from syncd.model import Command

log = logging.getLogger(__name__)


class CrmSinkOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requests_per_second: float = Field(10.0, gt=0)


@register
class CrmSink(Sink):
    kind = "retailcrm"
    Options = CrmSinkOptions
    batch_size = 50

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.client = client_for(
            self.context, self.options.requests_per_second, f"sink {self.name}"
        )

    def close(self) -> None:
        self.client.close()  # a reload or shutdown gives the account's rate back

    def apply(self, commands: list[Command]) -> list[Result]:
        """Customers first (linked, then uploaded), then orders, which may point at them."""
        results: list[Result] = []
        links = [c for c in commands if c.action == "link_or_create" and c.entity == "customer"]
        if links:
            results += self._link_batch(links)
        for entity in ("customer", "order"):
            upserts = [c for c in commands if c.action == "upsert" and c.entity == entity]
            by_site: dict[str | None, list[Command]] = {}
            for c in upserts:  # orders/upload takes one site per call
                by_site.setdefault(c.payload.get("site"), []).append(c)
            for site, group in by_site.items():
                results += self._upsert(entity, group, site)
        for cmd in commands:
            if cmd.action == "upsert" and cmd.entity in ("order", "customer"):
                continue
            if cmd in links:
                continue
            results.append(self._one(cmd))
        return results

    def _upsert(
        self, entity: str, commands: list[Command], site: str | None = None
    ) -> list[Result]:
        items = [
            {**{k: v for k, v in c.payload.items() if k != "site"}, "externalId": c.key}
            for c in commands
        ]
        if entity == "order":
            outcome = self.client.upload_orders(items, site=site)
        else:
            outcome = self.client.upload_customers(items, site=site)
        uploaded = {str(u.get("externalId")): u.get("id") for u in outcome.uploaded}
        existing = {str(e.get("externalId")): e for e in outcome.existing}
        failures = {str(f.get("externalId")): f.get("errors") or [] for f in outcome.failed}
        results = []
        for cmd in commands:
            if cmd.key in uploaded:
                results.append(Result.applied(cmd, _text(uploaded[cmd.key])))
            elif cmd.key in existing:
                results.append(self._edit_existing(entity, cmd, existing[cmd.key], site))
            else:
                reasons = failures.get(cmd.key) or ["the upload gave no outcome for it"]
                error = f"{entity} externalId={cmd.key}: " + "; ".join(reasons)
                results.append(Result.failed(cmd, error, permanent=True))
        return results

    def _edit_existing(self, entity: str, cmd: Command, found: dict, site: str | None) -> Result:
        """The object is in the CRM already (an earlier attempt went in, or it was there):
        bind it by the id the lookup found and bring it to the payload."""
        changes = {k: v for k, v in cmd.payload.items() if k != "site"}
        log.info(
            "%s externalId=%s is in the CRM already (id %s): editing it (%s)",
            entity,
            cmd.key,
            found.get("id"),
            "; ".join(found.get("errors") or []),
        )
        try:
            if entity == "order":
                self.client.edit_order(found["id"], changes, by="id", site=site)
            else:
                self.client.edit_customer(found["id"], changes, by="id", site=site)
        except CrmError as exc:
            error = f"{entity} externalId={cmd.key} (id {found['id']}): {exc}"
            return Result.failed(cmd, error, permanent=isinstance(exc, PermanentError))
        return Result.applied(cmd, _text(found["id"]))

    def _one(self, cmd: Command) -> Result:
        try:
            if cmd.action == "edit" and cmd.entity == "order":
                body = self.client.edit_order(cmd.key, cmd.payload)
                return Result.applied(cmd, _text(body.get("id")))
            if cmd.action == "edit" and cmd.entity == "customer":
                body = self.client.edit_customer(cmd.key, cmd.payload)
                return Result.applied(cmd, _text(body.get("id")))
            if cmd.action == "fix_external_id" and cmd.entity in ("order", "customer"):
                pair = [{"id": cmd.payload["id"], "externalId": cmd.key}]
                if cmd.entity == "order":
                    self.client.fix_order_external_ids(pair)
                else:
                    self.client.fix_customer_external_ids(pair)
                return Result.applied(cmd, _text(cmd.payload["id"]))
        except CrmError as exc:
            return Result.failed(cmd, str(exc), permanent=isinstance(exc, PermanentError))
        return Result.failed(
            cmd, f"the CRM sink cannot {cmd.action} a {cmd.entity}", permanent=True
        )

    def _link_batch(self, commands: list[Command]) -> list[Result]:
        """Customers bound to these partners are edited; the others are linked to a customer
        with the same phone or e-mail (given the partner's externalId) or uploaded new, 50 a call.
        """
        wanted = [c.key for c in commands]
        wanted += [a for c in commands for a in c.payload.get("aliases") or []]
        try:
            bound = {
                str(c.get("externalId")): c
                for c in self.client.customers({"externalIds": list(dict.fromkeys(wanted))})
            }
        except CrmError as exc:
            return [
                Result.failed(c, str(exc), permanent=isinstance(exc, PermanentError))
                for c in commands
            ]
        results, new = [], []
        for cmd in commands:
            customer, match = cmd.payload["customer"], cmd.payload.get("match") or {}
            try:
                aliases = [bound[a] for a in cmd.payload.get("aliases") or [] if a in bound]
                # the same person under another externalId (e.g. syncd-<id> before its 1C
                # partner was known) is renamed, not duplicated
                found = bound.get(cmd.key) or (aliases[0] if aliases else None)
                found = found or self._same_person(match)
                if found is None:
                    new.append(cmd)
                    continue
                if found.get("externalId") != cmd.key:
                    pair = [{"id": found["id"], "externalId": cmd.key}]
                    self.client.fix_customer_external_ids(pair)
                self.client.edit_customer(cmd.key, customer)
                results.append(Result.applied(cmd, _text(found["id"])))
            except CrmError as exc:
                results.append(
                    Result.failed(cmd, str(exc), permanent=isinstance(exc, PermanentError))
                )
        if new:
            upserts = [
                Command(
                    c.target,
                    c.entity,
                    c.key,
                    "upsert",
                    c.payload["customer"],
                    c.idempotency_key,
                    id=c.id,
                )
                for c in new
            ]
            results += self._upsert("customer", upserts)
        return results

    def _same_person(self, match: dict) -> dict | None:
        """A CRM customer not bound to another 1C partner, with one of these phones
        (compared in E.164) or this e-mail."""
        for number in match.get("phones") or []:
            digits = number.lstrip("+")
            for candidate in self.client.customers_by_phone(digits):
                phones = [phone_e164(p.get("number")) for p in candidate.get("phones") or []]
                if number in phones and not candidate.get("externalId"):
                    return candidate
        if match.get("email"):
            for candidate in self.client.customers_by_email(match["email"]):
                same = str(candidate.get("email", "")).lower() == match["email"]
                if same and not candidate.get("externalId"):
                    return candidate
        return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
