"""Conflicts: both systems changed the same thing and the owner rules could not decide.

A conflict waits for an operator (``syncd conflicts resolve ID --take erp|crm``);
the flows record them, the store keeps them, metrics count the open ones.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select, update

from syncd.model import Conflict
from syncd.store.schema import conflicts
from syncd.store.sql import dumps, loads


@dataclass(frozen=True)
class OpenConflict:
    id: int
    flow: str
    entity: str
    object_key: str
    reason: str
    details: Any
    state: str
    resolution: str | None
    created_at: float


def _conflict(row) -> OpenConflict:  # noqa: ANN001
    return OpenConflict(
        row.id,
        row.flow,
        row.entity,
        row.object_key,
        row.reason,
        loads(row.details),
        row.state,
        row.resolution,
        row.created_at,
    )


def object_ref(entity: str, object_key: str, details: Any) -> tuple[str, str, str]:
    """The (system, entity, external id) whose facts and newest event a conflict is about:
    the flow names it in ``details["facts_ref"]``, else the 1C object of the key."""
    named = (details or {}).get("facts_ref") if isinstance(details, dict) else None
    return tuple(named) if named else ("erp", entity, object_key)  # type: ignore[return-value]


def add(conn: Connection, conflict: Conflict) -> int:
    return conn.execute(
        conflicts.insert().returning(conflicts.c.id),
        {
            "flow": conflict.flow,
            "entity": conflict.entity,
            "object_key": conflict.key,
            "reason": conflict.reason,
            "details": dumps(conflict.details),
            "state": "open",
            "created_at": time.time(),
        },
    ).scalar_one()


def list_open(conn: Connection, limit: int = 100) -> list[OpenConflict]:
    rows = conn.execute(
        select(conflicts).where(conflicts.c.state == "open").order_by(conflicts.c.id).limit(limit)
    )
    return [_conflict(r) for r in rows]


def get(conn: Connection, conflict_id: int) -> OpenConflict | None:
    row = conn.execute(select(conflicts).where(conflicts.c.id == conflict_id)).first()
    return _conflict(row) if row else None


def count_open(conn: Connection) -> int:
    return conn.execute(
        select(func.count()).select_from(conflicts).where(conflicts.c.state == "open")
    ).scalar_one()


def resolve(conn: Connection, conflict_id: int, resolution: str) -> bool:
    return (
        conn.execute(
            update(conflicts)
            .where(conflicts.c.id == conflict_id, conflicts.c.state == "open")
            .values(state="resolved", resolution=resolution, resolved_at=time.time())
        ).rowcount
        == 1
    )
