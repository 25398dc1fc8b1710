"""Tasks in RetailCRM: a reminder for a manager about an order, and the users who do them.

``tasks/create`` takes ``task=<json {text, commentary?, datetime?,
performerId, order?: {id | externalId | number}, customer?: {id |
externalId}}>`` and ``site``, and answers 201 ``{success, id}``; ``tasks``
lists them (``filter[performers][]``, ``filter[orderNumber]``,
``filter[status]`` ``performing``/``completed``) and ``tasks/{id}`` gives one
(the shapes and what is unverified: docs/retailcrm.md, "Tasks").  A task as
answered names its performer ``performer`` (written ``performerId``) and its
order ``{id, number, externalId, site}``; ``datetime`` is ``Y-m-d H:i`` (no
seconds) in the account's zone.

Idempotency: a task has no externalId, so the CRM cannot refuse a repeat —
creating the same task twice makes two.  The caller records its progress
around the call (the sink keeps "task asked" and then the returned id in its
store, in the command's transaction), and when a create got no answer
(``CrmNoAnswer``, it may have landed) it looks before creating again:
``find_tasks(order_number=…, performer_id=…, text=…)`` lists the open tasks of
that order, performer and text.

    task_id = crm.create_task("Перезвонить клиенту", 7, {"externalId": "A-1"},
                              "2026-11-02 15:00", None, None)
    crm.find_tasks(order_number="1042A", performer_id=7, text="Перезвонить")
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from syncd.connectors.retailcrm.transport import CrmTransport

TASK_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")


class TaskCalls:
    """The tasks and users endpoints, mixed into ``CrmClient`` (its ``t``, ``_site``,
    ``_paginate``)."""

    t: CrmTransport

    def create_task(
        self,
        text: str,
        performer_id: int | None,
        order: dict | None = None,
        datetime: str | None = None,
        commentary: str | None = None,
        site: str | None = None,
    ) -> int:
        """A new task for ``performer_id`` (usually the order's ``managerId``); its id.

        ``order``: ``{"id": …}``, ``{"externalId": …}`` or ``{"number": …}`` (by
        externalId the order is looked for on ``site``, or the client's site);
        ``datetime``: when it is due, ``Y-m-d H:i``.  ``performer_id`` None
        leaves the performer out for the CRM to decide (the sandbox refuses it).
        Not idempotent: see the module's docstring.
        """
        if not text.strip():
            raise ValueError("a task needs a text")
        if datetime is not None and not TASK_TIME.match(datetime):
            raise ValueError(f"task datetime must be 'Y-m-d H:i', not {datetime!r}")
        task: dict[str, Any] = {"text": text}
        optional = {
            "performerId": performer_id,
            "order": order,
            "datetime": datetime,
            "commentary": commentary,
        }
        task.update({k: v for k, v in optional.items() if v is not None})
        body = self.t.post("tasks/create", {"task": task, "site": self._site(site)})
        return int(body["id"])

    def get_task(self, task_id: int) -> dict:
        return self.t.get(f"tasks/{int(task_id)}")["task"]

    def tasks(self, filters: dict | None = None, *, limit: int = 100) -> Iterator[dict]:
        """Every task matching ``filters`` (``performers``, ``orderNumber``, ``status``…)."""
        yield from self._paginate("tasks", "tasks", filters, limit)

    def find_tasks(
        self,
        *,
        order_number: str | None = None,
        performer_id: int | None = None,
        text: str | None = None,
        open_only: bool = True,
    ) -> list[dict]:
        """The tasks of one order number, performer and text (the CRM matches text as a
        part), open ones only unless told: what a caller checks before creating again."""
        filters: dict[str, Any] = {
            "orderNumber": order_number,
            "performers": [performer_id] if performer_id is not None else None,
            "text": text,
            "status": "performing" if open_only else None,
        }
        return list(self.tasks({k: v for k, v in filters.items() if v is not None}))

    def users(self, filters: dict | None = None) -> list[dict]:
        """The account's users (``active``, ``isManager`` as 1/0, ``ids``)."""
        return list(self._paginate("users", "users", filters, 100))

    def get_user(self, user_id: int) -> dict:
        """One user: whether a manager id can perform a task (``active``)."""
        return self.t.get(f"users/{int(user_id)}")["user"]
