"""The 1C sink's actions: what a flow may ask of it, typed (``syncd.engine.actions``).

- ``update`` — write ``fields`` of the object ``set``/key; ``post`` it after
  (default no); ``expected_version``: the ``DataVersion`` the flow decided on
  (a newer one means 1C changed meanwhile: the write is not made);
  ``cancel_lines``: flag every line of ``section`` as cancelled by ``flag``;
- ``set_status`` — the same, posted by default, and through the web service
  when the sink's ``status_via`` is ``soap`` (``fields`` must hold ``Статус``);
- ``create`` — a new object of ``set`` with ``fields``, posted if ``post``;
- ``mark_deleted`` — the object's deletion mark set.

    SetStatus(fields={"Статус": "КОтгрузке"}, expected_version="AAAAAAAAAAE=")
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from syncd.engine.actions import Action, table

ORDERS = "Document_ЗаказКлиента"


class CancelLines(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    section: str = Field(min_length=1, description="the tabular section, e.g. Товары")
    flag: str = Field(min_length=1, description="its line's cancelled flag, e.g. Отменено")


class Update(Action):
    name = "update"
    set: str = ORDERS
    fields: dict[str, Any] = Field(default_factory=dict)
    expected_version: str | None = None
    post: bool = False
    cancel_lines: CancelLines | None = None


class SetStatus(Update):
    name = "set_status"
    post: bool = True


class Create(Action):
    name = "create"
    set: str = ORDERS
    fields: dict[str, Any] = Field(default_factory=dict)
    post: bool = False


class MarkDeleted(Action):
    name = "mark_deleted"
    set: str = ORDERS


ACTIONS = table(Update, SetStatus, Create, MarkDeleted)
