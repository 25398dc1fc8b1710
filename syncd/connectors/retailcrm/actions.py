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
  ``match``'s phones or e-mail, else created, and given ``customer``'s fields;
- ``move_status`` — the order (by externalId) to ``status`` with ``fields``,
  only while its status is one of ``expect`` (never over a person's choice),
  then a ``task`` for its manager when asked (``status_moves``).

The stock sink (``inventory_sink``) has one action of its own, ``inventory``:
an offer's (the key) free stock per store, for ``store/inventories/upload``.

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


class Reminder(BaseModel):
    """A CRM task for the order's manager (the one in the order when the task is made)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str = Field(..., min_length=1)
    commentary: str | None = None
    performer_id: int | None = None  # None: the order's managerId (no task when it has none)


class MoveStatus(Action):
    name = "move_status"
    status: str = Field(..., min_length=1)
    expect: list[str] = Field(..., min_length=1)  # written only while the status is one of these
    fields: dict[str, Any] = Field(default_factory=dict)  # statusComment, customFields...
    reminder: Reminder | None = None
    site: str | None = None
    why: str = ""  # who asks and why ("robot: needs agreement"): logs and metrics
    step: str = ""  # makes repeated moves to the same status distinct ("no answer 2")
    # robot decisions, counted when the move is made: outcome, failed conditions,
    # the order's creation time (epoch s) for the time-to-decision histogram
    robot: dict[str, Any] | None = None


ACTIONS = table(Upsert, Edit, FixExternalId, LinkOrCreate, MoveStatus)


class StoreStock(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str = Field(..., min_length=1)  # the CRM store code
    available: int | float = Field(..., ge=0)


class Inventory(Action):
    """An offer's (the command's key) free stock in these stores: the stock sink's
    (``inventory_sink``) one action, not the orders' sink's."""

    name = "inventory"
    stores: list[StoreStock] = Field(..., min_length=1)
    site: str | None = None


INVENTORY_ACTIONS = table(Inventory)
