"""The inbox: every change a source saw, stored once, processed in arrival order.

An event is a snapshot of one object's state, so when several events of the
same object wait, only the newest one needs planning; the older ones are
superseded.  Replaying the inbox re-plans every event whose payload is still
held; the bindings then make the replay a no-op outside.

Retention (``syncd/store/retention.py``) deletes old processed events; of an
object's newest event it keeps the version in ``inbox_seen`` (keyed by
``object_digest``), so that a repeat of that very change is still dropped here.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Integer, bindparam, func, select, update

from syncd.model import Event
from syncd.store.bindings import Ref
from syncd.store.schema import inbox, inbox_seen
from syncd.store.sql import chunks, dumps, insert_rows, loads, one_of, upsert

UNIQUE = ["external_id", "system", "entity", "version"]


def object_digest(system: str, entity: str, external_id: str) -> bytes:
    """An object's key in ``inbox_seen``: 16 bytes of BLAKE2b over its three parts
    (two objects sharing one is a 1 in 2^64 chance among 4 billion objects)."""
    text = f"{system}\x1f{entity}\x1f{external_id}"
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def add(conn: Connection, events: Sequence[Event], stream: str = "") -> int:
    """Store events; repeats of (system, entity, external_id, version) are dropped.

    Returns how many were new.
    """
    events = _not_seen_before(conn, events)
    if not events:
        return 0
    rows = [
        {
            "stream": ev.stream or stream,
            "system": ev.system,
            "entity": ev.entity,
            "external_id": ev.external_id,
            "version": ev.version,
            "payload": dumps(ev.payload),
            "changed_at": ev.changed_at,
            "observed_at": ev.observed_at,
            "state": "pending",
        }
        for ev in events
    ]
    return len(insert_rows(conn, inbox, rows, UNIQUE, returning=["id"]))


# the versions retention kept of objects whose events it pruned
_SEEN = select(inbox_seen.c.object_digest, inbox_seen.c.version).where(
    one_of(inbox_seen.c.object_digest, "digests")
)


def kept_versions(conn: Connection, refs: Iterable[Ref]) -> dict[Ref, str]:
    """The version ``inbox_seen`` keeps of each of these objects (those it has)."""
    by_digest = {object_digest(*ref): ref for ref in refs}
    found: dict[Ref, str] = {}
    for part in chunks(sorted(by_digest)):
        for digest, version in conn.execute(_SEEN, {"digests": list(part)}):
            found[by_digest[bytes(digest)]] = version
    return found


def keep_versions(conn: Connection, newest: Iterable[tuple[Ref, str]]) -> int:
    """Keep (replacing any older one) the version of each object's newest pruned event."""
    rows = {object_digest(*ref): version for ref, version in newest}
    if rows:
        stmt = upsert(conn, inbox_seen, ["object_digest"], ["version"])
        conn.execute(stmt, [{"object_digest": d, "version": v} for d, v in rows.items()])
    return len(rows)


def _not_seen_before(conn: Connection, events: Sequence[Event]) -> Sequence[Event]:
    """The events but repeats of a change whose event retention pruned (``inbox_seen``)."""
    seen = kept_versions(conn, {(e.system, e.entity, e.external_id) for e in events})
    if not seen:
        return events
    return [e for e in events if seen.get((e.system, e.entity, e.external_id)) != e.version]


def _event(row) -> Event:  # noqa: ANN001
    return Event(
        system=row.system,
        entity=row.entity,
        external_id=row.external_id,
        version=row.version,
        payload=loads(row.payload) if row.payload else None,
        changed_at=row.changed_at,
        observed_at=row.observed_at,
        stream=row.stream,
        id=row.id,
    )


# built once: the planner asks many times a second
_PENDING = (
    select(inbox)
    .where(inbox.c.state == "pending")
    .order_by(inbox.c.id)
    .limit(bindparam("p_limit", type_=Integer))
)


def pending(conn: Connection, limit: int) -> list[Event]:
    return [_event(r) for r in conn.execute(_PENDING, {"p_limit": limit})]


def newest_pending(conn: Connection, system: str, entity: str, external_id: str) -> Event | None:
    """The newest change of one object still waiting to be planned."""
    row = conn.execute(
        select(inbox)
        .where(
            inbox.c.external_id == external_id,
            inbox.c.system == system,
            inbox.c.entity == entity,
            inbox.c.state == "pending",
        )
        .order_by(inbox.c.id.desc())
        .limit(1)
    ).first()
    return _event(row) if row else None


def get(conn: Connection, event_id: int) -> Event | None:
    row = conn.execute(select(inbox).where(inbox.c.id == event_id)).first()
    return _event(row) if row else None


_NEWEST = (
    select(inbox.c.external_id, func.max(inbox.c.id))
    .where(
        inbox.c.system == bindparam("n_system"),
        inbox.c.entity == bindparam("n_entity"),
        one_of(inbox.c.external_id, "n_ids"),
    )
    .group_by(inbox.c.external_id)
)


def newest_ids(conn: Connection, events: Iterable[Event]) -> dict[tuple[str, str, str], int]:
    """The highest inbox id per object among ``events``' objects (any state)."""
    groups: dict[tuple[str, str], set[str]] = {}
    for ev in events:
        groups.setdefault((ev.system, ev.entity), set()).add(ev.external_id)
    found: dict[tuple[str, str, str], int] = {}
    for (system, entity), id_set in groups.items():
        for chunk in chunks(sorted(id_set)):
            params = {"n_system": system, "n_entity": entity, "n_ids": chunk}
            for external_id, newest in conn.execute(_NEWEST, params):
                found[(system, entity, external_id)] = newest
    return found


_MARK = (
    update(inbox)
    .where(one_of(inbox.c.id, "m_ids"))
    .values(
        state=bindparam("m_state"), outcome=bindparam("m_outcome"), processed_at=bindparam("m_now")
    )
)


def mark(conn: Connection, outcomes: dict[int, tuple[str, str]], now: float | None = None) -> None:
    """Set each event's (state, outcome): state is ``done`` or ``failed``."""
    if not outcomes:
        return
    now = now or time.time()
    groups: dict[tuple[str, str], list[int]] = {}
    for event_id, state_outcome in outcomes.items():
        groups.setdefault(state_outcome, []).append(event_id)
    for (state, outcome), ids in groups.items():  # a handful of outcomes per batch
        for chunk in chunks(sorted(ids)):
            params = {
                "m_ids": list(chunk),
                "m_state": state,
                "m_outcome": str(outcome),
                "m_now": now,
            }
            conn.execute(_MARK, params)


def replay(conn: Connection, stream: str | None = None) -> int:
    """Put processed events back to pending, so flows plan them again (those retention
    pruned are gone: their objects' last states are in the bindings' facts)."""
    stmt = update(inbox).where(inbox.c.state.in_(("done", "failed")))
    if stream:
        stmt = stmt.where(inbox.c.stream == stream)
    return conn.execute(stmt.values(state="pending", outcome=None, processed_at=None)).rowcount


def requeue(conn: Connection, event_id: int) -> bool:
    """Plan one stored event again; False when it is gone (retention pruned it)."""
    stmt = update(inbox).where(inbox.c.id == event_id).values(state="pending", outcome=None)
    return conn.execute(stmt).rowcount == 1


def requeue_newest(conn: Connection, system: str, entity: str, external_id: str) -> bool:
    """Plan the newest stored change of one object again (False when retention pruned
    them all: the object's last state is in its binding's facts, nothing left to plan)."""
    newest = conn.execute(
        select(func.max(inbox.c.id)).where(
            inbox.c.system == system,
            inbox.c.entity == entity,
            inbox.c.external_id == external_id,
        )
    ).scalar_one()
    return newest is not None and requeue(conn, newest)


def count_pending(conn: Connection) -> int:
    return conn.execute(
        select(func.count()).select_from(inbox).where(inbox.c.state == "pending")
    ).scalar_one()


def oldest_pending_by_system(conn: Connection) -> dict[str, float]:
    source_time = func.coalesce(inbox.c.changed_at, inbox.c.observed_at)
    rows = conn.execute(
        select(inbox.c.system, func.min(source_time))
        .where(inbox.c.state == "pending")
        .group_by(inbox.c.system)
    )
    return {system: oldest for system, oldest in rows}


def recent_payloads(conn: Connection, systems: Iterable[str], limit: int) -> list[dict]:
    """The payloads of the newest ``limit`` events from ``systems`` (newest first):
    what the outside systems have actually sent, for checks that learn from it."""
    wanted = sorted(set(systems))
    if not wanted:
        return []
    rows = conn.execute(
        select(inbox.c.payload)
        .where(inbox.c.system.in_(wanted))
        .order_by(inbox.c.id.desc())
        .limit(limit)
    )
    return [loads(payload) for (payload,) in rows]
