"""The CRM sink's actions: what a flow may ask of it, typed (``syncd.engine.actions``).

- ``upsert`` — the object (order or customer) with these fields, by its
  externalId (the command's key), created or brought to them; ``site`` names
  the site it belongs to (not a field);
- ``edit`` — these fields of an object that exists (a status with its
  payments, a manager's comment…), ``site`` as above;
- ``fix_external_id`` — give the CRM-born object ``id`` the command's key as
  its externalId;
- ``link_or_create`` — the customer bound to a 1C partner (the key), found by
  binding, an alias (the same person under an older externalId), or one of
  ``match``'s phones or e-mail, else created, and given ``customer``'s fields.

The objects' own fields are the CRM's API v5 fields and are checked by the CRM;
what is checked here is the shape syncd relies on.

    LinkOrCreate(customer={"firstName": "Анна"}, match=Match(phones=["+79123456789"]))
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from syncd.engine.actions import Action, table


class Upsert(Action):
    model_config = ConfigDict(extra="allow", frozen=True)  # the object's own fields
    name = "upsert"
    site: str | None = None


class Edit(Upsert):
    name = "edit"


class FixExternalId(Action):
    name = "fix_external_id"
    id: int | str


class Match(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    phones: list[str] = Field(default_factory=list)  # E.164
    email: str | None = None


class LinkOrCreate(Action):
    name = "link_or_create"
    customer: dict[str, Any]
    match: Match = Field(default_factory=Match)
    aliases: list[str] = Field(default_factory=list)


ACTIONS = table(Upsert, Edit, FixExternalId, LinkOrCreate)
