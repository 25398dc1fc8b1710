"""Cursors: where each source stream has read up to, and how its last run went.

A source's new cursor is saved in the same transaction as the events it
covers, after ``leases.fence`` — so a crash repeats at most one page and an
instance that lost the stream's lease cannot move its cursor.  The cursor row
also remembers the writer's epoch and refuses a write from an older epoch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from syncd.store.leases import Lease, LeaseLost
from syncd.store.schema import cursors
from syncd.store.sql import dumps, insert_ignoring_duplicates, loads


@dataclass(frozen=True)
class StreamState:
    stream: str
    cursor: Any
    epoch: int
    events_total: int
    last_attempt_at: float | None
    last_success_at: float | None
    last_error: str | None


def _ensure(conn: Connection, stream: str) -> None:
    conn.execute(insert_ignoring_duplicates(conn, cursors, ["stream"]), {"stream": stream})


def get(conn: Connection, stream: str) -> StreamState | None:
    row = conn.execute(select(cursors).where(cursors.c.stream == stream)).first()
    if row is None:
        return None
    return StreamState(
        row.stream,
        loads(row.value),
        row.epoch,
        row.events_total,
        row.last_attempt_at,
        row.last_success_at,
        row.last_error,
    )


def all_states(conn: Connection) -> list[StreamState]:
    names = conn.execute(select(cursors.c.stream).order_by(cursors.c.stream)).scalars().all()
    return [s for s in (get(conn, n) for n in names) if s is not None]


def save(
    conn: Connection, lease: Lease, cursor: Any, new_events: int, now: float | None = None
) -> None:
    """Store the stream's new cursor; call after ``leases.fence`` in the same transaction."""
    stream = _stream(lease)
    _ensure(conn, stream)
    written = conn.execute(
        update(cursors)
        .where(cursors.c.stream == stream, cursors.c.epoch <= lease.epoch)
        .values(
            value=dumps(cursor),
            epoch=lease.epoch,
            events_total=cursors.c.events_total + new_events,
            updated_at=now or time.time(),
        )
    ).rowcount
    if written != 1:
        raise LeaseLost(
            f"cursor of {stream!r} was written by a newer owner than epoch {lease.epoch}"
        )


def record_attempt(
    conn: Connection, stream: str, *, ok: bool, error: str | None = None, now: float | None = None
) -> None:
    now = now or time.time()
    _ensure(conn, stream)
    values: dict[str, Any] = {"last_attempt_at": now, "last_error": None if ok else error}
    if ok:
        values["last_success_at"] = now
    conn.execute(update(cursors).where(cursors.c.stream == stream).values(**values))


def _stream(lease: Lease) -> str:
    # A source's lease is named "source:<stream>".
    return lease.name.split(":", 1)[1] if lease.name.startswith("source:") else lease.name
