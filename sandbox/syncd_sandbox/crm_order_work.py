"""The sandbox CRM's routes for the work around orders: payments, tasks, users.

``SandboxCrm.route`` hands these paths here (``handles``); each answers as
``crm_payments``, ``crm_tasks`` and ``crm_users`` describe:

- ``POST orders/payments/create`` → 201 ``{success, id}``;
  ``POST orders/payments/{id}/edit`` → ``{success, id}``;
  ``POST orders/payments/{id}/delete`` → ``{success}``;
- ``POST tasks/create`` → 201 ``{success, id}``; ``GET tasks`` (paginated,
  filtered); ``GET tasks/{id}`` → ``{success, task}``;
- ``GET users`` (paginated, filtered); ``GET users/{id}`` → ``{success, user}``.

    if handles(path):
        return answer(state, method, path, params, key)
"""

from __future__ import annotations

import copy
import json

from syncd_sandbox.crm_faults import error_body
from syncd_sandbox.crm_paging import page_of, pagination, paging
from syncd_sandbox.crm_payments import create_payment, delete_payment, edit_payment
from syncd_sandbox.crm_state import CrmRefusal, CrmState
from syncd_sandbox.crm_tasks import create_task, get_task, matching_tasks
from syncd_sandbox.crm_users import matching_users


def handles(path: str) -> bool:
    parts = path.split("/")
    return parts[0] in ("tasks", "users") or parts[:2] == ["orders", "payments"]


def answer(state: CrmState, method: str, path: str, p: dict, key: str) -> tuple[int, dict]:
    parts = path.split("/")
    if parts[0] == "orders":
        return _payments(state, method, parts[2:], p, key)
    if parts[0] == "tasks":
        return _tasks(state, method, parts[1:], p)
    return _users(state, method, parts[1:], p)


def _payments(state: CrmState, method: str, rest: list[str], p: dict, key: str) -> tuple:
    if method != "POST":
        return 404, error_body("Not found")
    if rest == ["create"]:
        payment = create_payment(state, _entity(p, "payment"), p.get("site"), key)
        return 201, {"success": True, "id": payment["id"]}
    if len(rest) == 2 and rest[1] == "edit":
        by = p.get("by") or "id"
        payment = edit_payment(state, rest[0], by, _entity(p, "payment"), p.get("site"), key)
        return 200, {"success": True, "id": payment["id"]}
    if len(rest) == 2 and rest[1] == "delete":
        delete_payment(state, rest[0], key)
        return 200, {"success": True}
    return 404, error_body("Not found")


def _tasks(state: CrmState, method: str, rest: list[str], p: dict) -> tuple:
    if method == "POST" and rest == ["create"]:
        task = create_task(state, _entity(p, "task"), p.get("site"))
        return 201, {"success": True, "id": task["id"]}
    if method == "GET" and not rest:
        found = matching_tasks(state, p.get("filter") or {})
        limit, page = paging(p)
        return 200, {
            "success": True,
            "pagination": pagination(len(found), limit, page),
            "tasks": page_of(found, limit, page),
        }
    if method == "GET" and len(rest) == 1:
        return 200, {"success": True, "task": get_task(state, rest[0])}
    return 404, error_body("Not found")


def _users(state: CrmState, method: str, rest: list[str], p: dict) -> tuple:
    if method != "GET":
        return 404, error_body("Not found")
    with state.lock:
        users = copy.deepcopy(state.users)
    if not rest:
        found = matching_users(users, p.get("filter") or {})
        limit, page = paging(p)
        return 200, {
            "success": True,
            "pagination": pagination(len(found), limit, page),
            "users": page_of(found, limit, page),
        }
    if len(rest) == 1 and rest[0].isdigit() and int(rest[0]) in users:
        return 200, {"success": True, "user": users[int(rest[0])]}
    return 404, error_body("Not found")


def _entity(p: dict, name: str) -> dict:
    """The JSON entity in form field ``name``; 400 naming it when missing or not an object."""
    raw = p.get(name)
    if raw in (None, ""):
        raise CrmRefusal(400, f"Parameter '{name}' is missing")
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise CrmRefusal(400, "Errors in the input parameters", {name: "must be a JSON object"})
    return value
