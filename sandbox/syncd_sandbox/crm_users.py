"""The sandbox CRM's users: the managers an order's ``managerId`` and a task's performer name.

``GET users`` (a paginated list, ``filter[ids][]``, ``filter[active]``,
``filter[isManager]``) and ``GET users/{id}`` answer in the shape of the
official client's recorded bodies (PHP client ``UsersTest``): ``id``,
``createdAt``, ``active``, ``email``, ``firstName``, ``lastName``,
``status``, ``online``, ``isAdmin``, ``isManager``, ``groups``.  A task may
only be given to an active user here (``crm_tasks``); that the real account
refuses others is the sandbox's assumption [U].

The account starts with an administrator (id 1, the ``user`` of a manager's
history records) and managers 2–5; a test adds its own:

    app.state.users[17] = user_body(17, "Ольга", is_manager=True)
"""

from __future__ import annotations

from typing import Any

MANAGERS = {2: "Анна", 3: "Борис", 4: "Вера", 5: "Глеб"}
GROUP_MANAGERS = {"id": 25, "name": "Менеджеры", "code": "manager"}
GROUP_DIRECTORS = {"id": 26, "name": "Руководители", "code": "director"}


def user_body(
    user_id: int, first_name: str, *, is_manager: bool = True, is_admin: bool = False
) -> dict:
    """A user as ``users/{id}`` answers one."""
    groups = [GROUP_MANAGERS] if is_manager else []
    if is_admin:
        groups.append(GROUP_DIRECTORS)
    return {
        "id": user_id,
        "createdAt": "2026-01-12 09:00:00",
        "active": True,
        "email": f"user{user_id}@shop.example",
        "firstName": first_name,
        "status": "free",
        "online": False,
        "isAdmin": is_admin,
        "isManager": is_manager,
        "groups": groups,
    }


def default_users() -> dict[int, dict]:
    users = {1: user_body(1, "Администратор", is_manager=True, is_admin=True)}
    users.update({i: user_body(i, name) for i, name in MANAGERS.items()})
    return users


def matching_users(users: dict[int, dict], filters: dict[str, Any]) -> list[dict]:
    """The users ``filter[...]`` picks, in id order (flags as ``1``/``0``)."""
    found = [users[i] for i in sorted(users)]
    if filters.get("ids"):
        wanted = {int(i) for i in filters["ids"]}
        found = [u for u in found if u["id"] in wanted]
    for flag in ("active", "isManager", "isAdmin"):
        if filters.get(flag) not in (None, ""):
            want = str(filters[flag]).lower() in ("1", "true")
            found = [u for u in found if u[flag] is want]
    return found
