"""Tasks in the sandbox CRM: a reminder for a manager, about an order or a customer.

Shapes checked against the official clients (PHP client ``Entity/Tasks/Task.php``,
``TasksTest``; Go client ``Task``, ``TasksFilter``), recorded in docs/retailcrm.md:

- ``POST tasks/create`` with ``task=<json {text, commentary?, datetime?,
  performerId, order?: {id | externalId | number}, customer?: {id |
  externalId}, phone?}>`` and ``site`` answers 201 ``{success, id}``;
- ``GET tasks/{id}`` answers ``{success, task}``; ``GET tasks`` a paginated
  ``tasks`` list, newest first, with ``filter[performers][]``,
  ``filter[orderNumber]``, ``filter[status]`` (``performing`` |
  ``completed``), ``filter[text]``, ``filter[ids][]``;
- a task as answered: ``id``, ``text``, ``commentary``, ``datetime``
  (``Y-m-d H:i``, no seconds), ``createdAt`` (``Y-m-d H:i:s``), ``complete``,
  ``performer`` (the id written as ``performerId``), ``performerType``
  ``user``, ``order`` ``{id, number, externalId, site}``, ``customer``
  ``{type, id, externalId, site}``; keys without a value are left out.

Assumptions, not recorded answers [U]: ``text`` and ``performerId`` are
required and the performer must be an active user (``crm_users``); an unknown
order or customer is refused 400 naming the field; a ``datetime`` not in
``Y-m-d H:i`` is refused; a task makes no order history record.  Tasks have no
externalId: creating the same task twice makes two.

    task = create_task(state, {"text": "Call back", "performerId": 2,
                               "order": {"externalId": "A-1"}}, site=None)
    found = matching_tasks(state, {"performers": ["2"], "orderNumber": "1M"})
"""

from __future__ import annotations

import copy
import re

from syncd_sandbox.crm_state import CrmRefusal, CrmState

ENTITY_FORMAT = "Errors in the entity format"
TASK_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")


def create_task(state: CrmState, data: dict, site: str | None) -> dict:
    """A new task from ``data`` (the ``task`` field), as the account keeps it."""
    with state.lock:
        problems = _problems(state, data)
        if problems:
            raise CrmRefusal(400, ENTITY_FORMAT, problems)
        task: dict = {
            "id": max(state.tasks, default=0) + 1,
            "text": data["text"],
            "commentary": data.get("commentary"),
            "datetime": data.get("datetime"),
            "createdAt": state.now(),
            "complete": False,
            "performer": int(data["performerId"]),
            "performerType": "user",
            "phone": data.get("phone"),
        }
        if data.get("order"):
            task["order"] = _order_ref(state, data["order"], site)
        if data.get("customer"):
            task["customer"] = _customer_ref(state, data["customer"], site)
        task = {k: v for k, v in task.items() if v not in (None, "")}
        state.tasks[task["id"]] = task
        return copy.deepcopy(task)


def get_task(state: CrmState, task_id: str) -> dict:
    with state.lock:
        task = state.tasks.get(int(task_id)) if str(task_id).isdigit() else None
        if task is None:
            raise CrmRefusal(404, "Not found")
        return copy.deepcopy(task)


def matching_tasks(state: CrmState, filters: dict) -> list[dict]:
    """The tasks ``filter[...]`` picks, newest first."""
    with state.lock:
        found = [copy.deepcopy(state.tasks[i]) for i in sorted(state.tasks, reverse=True)]
    if filters.get("ids"):
        ids = {int(i) for i in filters["ids"]}
        found = [t for t in found if t["id"] in ids]
    if filters.get("performers"):
        performers = {int(p) for p in filters["performers"]}
        found = [t for t in found if t["performer"] in performers]
    if filters.get("orderNumber"):
        found = [t for t in found if (t.get("order") or {}).get("number") == filters["orderNumber"]]
    if filters.get("status") in ("performing", "completed"):
        done = filters["status"] == "completed"
        found = [t for t in found if t["complete"] is done]
    if filters.get("text"):
        needle = str(filters["text"]).lower()
        found = [t for t in found if needle in t["text"].lower()]
    return found


def _problems(state: CrmState, data: dict) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not str(data.get("text") or "").strip():
        problems["text"] = "This value should not be blank."
    performer = data.get("performerId")
    if performer in (None, ""):
        problems["performerId"] = "This value should not be blank."
    elif not str(performer).isdigit() or not (state.users.get(int(performer)) or {}).get("active"):
        problems["performerId"] = f"User with id {performer} not found or not active"
    when = data.get("datetime")
    if when not in (None, "") and not TASK_TIME.match(str(when)):
        problems["datetime"] = "This value is not a valid datetime (Y-m-d H:i)."
    return problems


def _order_ref(state: CrmState, reference: object, site: str | None) -> dict:
    """``{id, number, externalId, site}`` of the order ``{id | externalId | number}`` names."""
    found = None
    if isinstance(reference, dict):
        if reference.get("id"):
            found = state.find("order", str(reference["id"]), "id", None)
        elif reference.get("externalId"):
            found = state.find("order", str(reference["externalId"]), "externalId", site)
        elif reference.get("number"):
            number = str(reference["number"])
            orders = state.records["order"].values()
            found = next((o for o in orders if o["number"] == number), None)
    if found is None:
        raise CrmRefusal(400, ENTITY_FORMAT, {"order": f"Order {reference} not found"})
    ref = {"id": found["id"], "number": found["number"], "site": found["site"]}
    if found.get("externalId"):
        ref["externalId"] = found["externalId"]
    return ref


def _customer_ref(state: CrmState, reference: object, site: str | None) -> dict:
    found = None
    if isinstance(reference, dict):
        if reference.get("id"):
            found = state.find("customer", str(reference["id"]), "id", None)
        elif reference.get("externalId"):
            found = state.find("customer", str(reference["externalId"]), "externalId", site)
    if found is None:
        raise CrmRefusal(400, ENTITY_FORMAT, {"customer": f"Customer {reference} not found"})
    ref = {"type": found.get("type", "customer"), "id": found["id"], "site": found["site"]}
    if found.get("externalId"):
        ref["externalId"] = found["externalId"]
    return ref
