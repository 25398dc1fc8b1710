"""The CRM sink: applies syncd's commands to RetailCRM, idempotently.

Actions (``Command.action``), each addressed by the externalId syncd controls
(``Command.key``):

- ``upsert`` — orders/customers go through ``*/upload`` in batches of 50 (the
  API's limit); an item refused because it "already exists" is looked up by
  externalId and edited instead, so a repeat is harmless; a 460 partial result
  is handled per item;
- ``edit`` — a partial edit in one call (a status together with its payments);
- ``fix_external_id`` — give a CRM-born object (payload ``{"id": …}``) its
  externalId.

The engine records the fingerprint of what was written in the bindings, and
the CRM id the account gave (``remote_id``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from syncd.connectors.retailcrm.client import client_for
from syncd.connectors.retailcrm.errors import CrmError, CrmNotFound
from syncd.engine.contracts import Result, Sink
from syncd.engine.pipeline import register
from syncd.errors import PermanentError
from syncd.mappings.transforms import phone_e164
from syncd.model import Command


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
        self.client = client_for(self.context, self.options.requests_per_second)

    def apply(self, commands: list[Command]) -> list[Result]:
        results: list[Result] = []
        for entity in ("order", "customer"):
            upserts = [c for c in commands if c.action == "upsert" and c.entity == entity]
            if upserts:
                results += self._upsert(entity, upserts)
        for cmd in commands:
            if cmd.action == "upsert" and cmd.entity in ("order", "customer"):
                continue
            results.append(self._one(cmd))
        return results

    def _upsert(self, entity: str, commands: list[Command]) -> list[Result]:
        items = [{**c.payload, "externalId": c.key} for c in commands]
        if entity == "order":
            outcome = self.client.upload_orders(items)
        else:
            outcome = self.client.upload_customers(items)
        crm_ids = {str(u.get("externalId")): u.get("id") for u in outcome.uploaded}
        failures = {str(f.get("externalId")): f.get("errors") or [] for f in outcome.failed}
        results = []
        for cmd in commands:
            if cmd.key in crm_ids:
                results.append(Result.applied(cmd, _text(crm_ids[cmd.key])))
                continue
            reasons = failures.get(cmd.key, ["the upload reported neither success nor failure"])
            if any("already exists" in r for r in reasons):
                results.append(self._edit_existing(entity, cmd))
            else:
                results.append(Result.failed(cmd, "; ".join(reasons), permanent=True))
        return results

    def _edit_existing(self, entity: str, cmd: Command) -> Result:
        """The object is there already (an earlier attempt went in): bind it and edit it."""
        try:
            if entity == "order":
                body = self.client.edit_order(cmd.key, cmd.payload)
            else:
                body = self.client.edit_customer(cmd.key, cmd.payload)
        except CrmError as exc:
            return Result.failed(cmd, str(exc), permanent=isinstance(exc, PermanentError))
        return Result.applied(cmd, _text(body.get("id")))

    def _one(self, cmd: Command) -> Result:
        try:
            if cmd.action == "edit" and cmd.entity == "order":
                body = self.client.edit_order(cmd.key, cmd.payload)
                return Result.applied(cmd, _text(body.get("id")))
            if cmd.action == "edit" and cmd.entity == "customer":
                body = self.client.edit_customer(cmd.key, cmd.payload)
                return Result.applied(cmd, _text(body.get("id")))
            if cmd.action == "link_or_create" and cmd.entity == "customer":
                return self._link_or_create(cmd)
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

    def _link_or_create(self, cmd: Command) -> Result:
        """The customer bound to ``cmd.key``, else one with the same phone or e-mail
        (given ``cmd.key`` as externalId), else a new one."""
        customer, match = cmd.payload["customer"], cmd.payload.get("match") or {}
        try:
            body = self.client.edit_customer(cmd.key, customer)
            return Result.applied(cmd, _text(body.get("id")))
        except CrmNotFound:
            pass
        found = self._same_person(match)
        if found is not None:
            self.client.fix_customer_external_ids([{"id": found["id"], "externalId": cmd.key}])
            body = self.client.edit_customer(cmd.key, customer)
            return Result.applied(cmd, _text(found["id"]))
        body = self.client.create_customer({**customer, "externalId": cmd.key})
        return Result.applied(cmd, _text(body.get("id")))

    def _same_person(self, match: dict) -> dict | None:
        """A CRM customer with one of these phones (compared in E.164) or this e-mail."""
        for number in match.get("phones") or []:
            digits = number.lstrip("+")
            for candidate in self.client.customers_by_phone(digits):
                phones = [phone_e164(p.get("number")) for p in candidate.get("phones") or []]
                if number in phones:
                    return candidate
        if match.get("email"):
            for candidate in self.client.customers_by_email(match["email"]):
                if str(candidate.get("email", "")).lower() == match["email"]:
                    return candidate
        return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
