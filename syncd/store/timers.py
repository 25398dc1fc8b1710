"""Timers: delayed actions kept as data, never a sleeping thread.

A flow that wants something done later (the no-answer call chain: "in three
hours, hand the order back to the operators") puts a ``model.Timer`` in its
plan; planning stores it in the plan's transaction.  The engine's main loop
fires what is due: one transaction marks a due timer ``fired`` and puts its
event (``syncd/timer/<key>``, the timer's payload) in the inbox, where the
flows decide what it means now.  So a timer

- survives restarts, and after downtime fires late rather than never;
- fires exactly once, with any number of instances: the row goes from
  ``pending`` to ``fired`` under a row lock (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL; SQLite has one writer), in the transaction that stores its
  event; nothing outside the store happens in between, so no lease is held
  across a call;
- is cancelled (``cancelled``, with why) when its subject moves on.

    with store.begin() as conn:
        schedule(conn, [Timer("chain:o1:1", "no_call", "crm/order/o1", due_at, {...})])
        fired = fire_due(conn, now=time.time())      # events, already in the inbox
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, case, func, select, update

from syncd.model import Event, Timer
from syncd.store import inbox
from syncd.store.schema import timers
from syncd.store.sql import dumps, insert_ignoring_duplicates, loads

SYSTEM, ENTITY = "syncd", "timer"  # the events timers fire as
STREAM = "timers"


@dataclass(frozen=True)
class TimerRow:
    id: int
    key: str
    kind: str
    subject: str
    due_at: float
    payload: dict
    state: str
    created_at: float
    ended_at: float | None
    note: str | None


def schedule(conn: Connection, planned: Iterable[Timer], now: float | None = None) -> int:
    """Store timers; one whose key is stored already (pending or ended) is kept as is."""
    now = time.time() if now is None else now
    rows = [
        {
            "key": t.key,
            "kind": t.kind,
            "subject": t.subject,
            "due_at": t.due_at,
            "payload": dumps(t.payload),
            "state": "pending",
            "created_at": now,
        }
        for t in planned
    ]
    if not rows:
        return 0
    stmt = insert_ignoring_duplicates(conn, timers, ["key"]).returning(timers.c.id)
    return len(conn.execute(stmt, rows).all())


def cancel(conn: Connection, kind: str, subject: str, why: str, now: float | None = None) -> int:
    """Cancel the pending timers of ``kind`` about ``subject``; returns how many."""
    now = time.time() if now is None else now
    stmt = (
        update(timers)
        .where(timers.c.kind == kind, timers.c.subject == subject, timers.c.state == "pending")
        .values(state="cancelled", ended_at=now, note=why)
    )
    return conn.execute(stmt).rowcount or 0


def fire_due(conn: Connection, now: float | None = None, limit: int = 100) -> list[Event]:
    """Fire up to ``limit`` due timers, oldest due first: each is marked fired and its
    event stored in the inbox, in this transaction.  Returns the events fired."""
    now = time.time() if now is None else now
    due = (
        select(timers.c.id)
        .where(timers.c.state == "pending", timers.c.due_at <= now)
        .order_by(timers.c.due_at, timers.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(conn.execute(due).scalars())
    if not ids:
        return []
    fired = conn.execute(
        update(timers)
        .where(timers.c.id.in_(ids), timers.c.state == "pending")
        .values(state="fired", ended_at=now)
        .returning(
            timers.c.id,
            timers.c.key,
            timers.c.kind,
            timers.c.subject,
            timers.c.due_at,
            timers.c.payload,
        )  # fmt: skip
    ).all()
    events = [
        Event(
            system=SYSTEM,
            entity=ENTITY,
            external_id=row.key,
            version=str(row.id),
            payload={
                "kind": row.kind,
                "subject": row.subject,
                "due_at": row.due_at,
                **(loads(row.payload) or {}),
            },
            changed_at=row.due_at,
            observed_at=now,
            stream=STREAM,
        )
        for row in sorted(fired, key=lambda r: (r.due_at, r.id))
    ]
    inbox.add(conn, events, STREAM)
    return events


def listing(
    conn: Connection, states: Iterable[str] = ("pending",), limit: int = 1000
) -> list[TimerRow]:
    """Timers in these states, soonest due first."""
    rows = conn.execute(
        select(timers)
        .where(timers.c.state.in_(list(states)))
        .order_by(timers.c.due_at, timers.c.id)
        .limit(limit)
    )
    return [
        TimerRow(
            r.id,
            r.key,
            r.kind,
            r.subject,
            r.due_at,
            loads(r.payload) or {},
            r.state,
            r.created_at,
            r.ended_at,
            r.note,
        )  # fmt: skip
        for r in rows
    ]


def pending_counts(
    conn: Connection, now: float, overdue_after: float
) -> dict[str, tuple[int, int]]:
    """Per kind: (pending, overdue) — overdue is pending and due over ``overdue_after`` s ago."""
    late = func.sum(case((timers.c.due_at < now - overdue_after, 1), else_=0))
    rows = conn.execute(
        select(timers.c.kind, func.count(), late)
        .where(timers.c.state == "pending")
        .group_by(timers.c.kind)
    )
    return {kind: (int(n), int(overdue or 0)) for kind, n, overdue in rows}


def next_due(conn: Connection) -> float | None:
    """When the soonest pending timer is due (None: none pending)."""
    soonest = select(func.min(timers.c.due_at)).where(timers.c.state == "pending")
    return conn.execute(soonest).scalar()
