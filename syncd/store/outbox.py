"""The outbox: writes waiting for a sink, claimed one object at a time.

A command is claimed only when no earlier command of the same business object
is still pending, running or dead, so one object's writes apply in order and
never concurrently, while other objects go on.  A claim carries a token and
an expiry: results are written only by the claim's holder (a worker that lost
its claim cannot overwrite a newer attempt), and an expired claim is taken
again.  On PostgreSQL claiming uses ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Connection,
    Integer,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import aliased

from syncd.model import Command
from syncd.store.leases import INSTANCE_PREFIX
from syncd.store.schema import NOT_FINISHED_SQL, UNFINISHED_SQL, leases, outbox
from syncd.store.sql import chunks, dumps, insert_rows, loads, one_of

BLOCKING = ("pending", "running", "dead")  # states that hold back later commands of an object
UNFINISHED = text(UNFINISHED_SQL)  # the same states, spelled as the partial index spells them
# ...as ix_outbox_unfinished_object spells them, of the alias ``earlier`` (literal: a
# bound list would not prove that index applies; schema.py tells why it differs)
EARLIER_UNFINISHED = text(NOT_FINISHED_SQL.replace("outbox.", "earlier."))


@dataclass(frozen=True)
class Claim:
    command: Command
    token: str


def enqueue(conn: Connection, commands: Sequence[Command], now: float | None = None) -> int:
    """Queue commands; one whose idempotency key is already queued is dropped."""
    if not commands:
        return 0
    now = now or time.time()
    rows = [
        {
            "idempotency_key": c.idempotency_key,
            "target": c.target,
            "entity": c.entity,
            "object_id": c.key,
            "object_key": c.object_key,
            "action": c.action,
            "payload": dumps(c.payload),
            "fingerprint": c.fingerprint,
            "flow": c.flow,
            "origin_system": c.origin_system,
            "origin_id": c.origin_id,
            "source_changed_at": c.source_changed_at,
            "created_at": now,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
        }
        for c in commands
    ]
    return len(insert_rows(conn, outbox, rows, ["idempotency_key"], returning=["id"]))


def _command(row) -> Command:  # noqa: ANN001
    return Command(
        target=row.target,
        entity=row.entity,
        key=row.object_id,
        action=row.action,
        payload=loads(row.payload),
        idempotency_key=row.idempotency_key,
        flow=row.flow,
        origin_system=row.origin_system,
        origin_id=row.origin_id,
        source_changed_at=row.source_changed_at,
        id=row.id,
        attempts=row.attempts,
        progress=loads(row.progress) if row.progress else None,
        interruptions=row.interruptions,
        planned_at=row.created_at,
    )


def _due_heads():  # noqa: ANN202 - an SQLAlchemy statement
    """The commands a claim takes: due, and the first unfinished one of their object.

    Built once with parameters: the main loop claims many times a second, and
    building (and keying for the statement cache) this statement each time cost
    more than running it."""
    earlier = aliased(outbox, name="earlier")
    now, owner = bindparam("c_now"), bindparam("c_owner")
    # another instance's claims, once its instance lease lapsed (never this one's own:
    # its workers still run them, however late its loop renewed its lease)
    owner_gone = (outbox.c.claimed_by != owner) & exists().where(
        leases.c.name == literal(INSTANCE_PREFIX) + outbox.c.claimed_by,
        leases.c.expires_at < now,
    )
    due = or_(
        and_(outbox.c.state == "pending", outbox.c.next_attempt_at <= now),
        # a claim is taken back when it expired or its instance stopped renewing its lease
        and_(outbox.c.state == "running", or_(outbox.c.claimed_until < now, owner_gone)),
    )
    # the first unfinished command of the object: a subquery run for each candidate with
    # its object_key, so it always probes ix_outbox_unfinished_object (as an anti-join,
    # PostgreSQL planned it as a scan of every unfinished command per candidate once
    # ANALYZE had seen few of them: migration 0013)
    head_of_object = (
        select(func.min(earlier.c.id))
        .where(earlier.c.object_key == outbox.c.object_key, EARLIER_UNFINISHED)
        .scalar_subquery()
    )
    return (
        select(outbox.c.id)
        .where(UNFINISHED, outbox.c.target == bindparam("c_target"), due)
        .where(outbox.c.id == head_of_object)
        .order_by(outbox.c.target, outbox.c.id)  # the index's order: no sort, stops at limit
        .limit(bindparam("c_limit", type_=Integer))
        .with_for_update(skip_locked=True)
    )


_built: dict[str, object] = {}  # statements built once per process (reset_statements)


def _candidates():  # noqa: ANN202
    if "claim" not in _built:
        _built["claim"] = _due_heads()
    return _built["claim"]


def reset_statements() -> None:
    """Build the cached statements again at their next use (for mutation testing: a
    planted change in ``_due_heads`` shows only in a statement built after it)."""
    _built.clear()


def claim(
    conn: Connection,
    *,
    target: str,
    owner: str,
    limit: int,
    claim_ttl: float,
    now: float | None = None,
) -> list[Claim]:
    """Claim up to ``limit`` due commands for ``target``, heads of their objects only."""
    now = now or time.time()
    params = {"c_target": target, "c_owner": owner, "c_now": now, "c_limit": limit}
    ids = list(conn.execute(_candidates(), params).scalars())
    if not ids:
        return []
    token = uuid.uuid4().hex
    rows = conn.execute(
        update(outbox)
        .where(one_of(outbox.c.id, "u_ids"))
        .values(
            state="running",
            claimed_by=owner,
            claim_token=token,
            claimed_until=now + claim_ttl,
            # a claim taken back (its holder died or overran) goes on with the attempt it
            # was on: the target did not fail it; it counts as an interruption instead
            attempts=case(
                (outbox.c.state == "pending", outbox.c.attempts + 1), else_=outbox.c.attempts
            ),
            interruptions=case(
                (outbox.c.state == "running", outbox.c.interruptions + 1),
                else_=outbox.c.interruptions,
            ),
        )
        .returning(*outbox.c),
        {"u_ids": ids},
    ).all()
    return [Claim(_command(r), token) for r in sorted(rows, key=lambda r: r.id)]


def _held(command_id: int, token: str):  # noqa: ANN202
    return and_(
        outbox.c.id == command_id, outbox.c.claim_token == token, outbox.c.state == "running"
    )


def note_progress(conn: Connection, command_id: int, token: str, progress: dict) -> bool:
    """Remember how far a running command's multi-step write got; False if the claim is
    no longer held (then a newer attempt owns the command and this note is not kept)."""
    result = conn.execute(
        update(outbox).where(_held(command_id, token)).values(progress=dumps(progress))
    )
    return result.rowcount == 1


def _release_values() -> dict:
    return {"claimed_by": None, "claim_token": None, "claimed_until": None}


def complete(conn: Connection, command_id: int, token: str, now: float | None = None) -> bool:
    """Mark a claimed command applied; False when the claim was lost meanwhile."""
    stmt = (
        update(outbox)
        .where(_held(command_id, token))
        .values(state="done", done_at=now or time.time(), last_error=None, **_release_values())
    )
    return conn.execute(stmt).rowcount == 1


def complete_many(
    conn: Connection, command_ids: list[int], token: str, now: float | None = None
) -> set[int]:
    """Mark a claimed batch applied; returns the ids whose claim was still held."""
    if not command_ids:
        return set()
    rows = conn.execute(
        update(outbox)
        .where(
            one_of(outbox.c.id, "u_ids"),
            outbox.c.claim_token == token,
            outbox.c.state == "running",
        )
        .values(state="done", done_at=now or time.time(), last_error=None, **_release_values())
        .returning(outbox.c.id),
        {"u_ids": list(command_ids)},
    )
    return set(rows.scalars())


def retry_later(
    conn: Connection, command_id: int, token: str, error: str, next_attempt_at: float
) -> bool:
    stmt = (
        update(outbox)
        .where(_held(command_id, token))
        .values(
            state="pending", next_attempt_at=next_attempt_at, last_error=error, **_release_values()
        )
    )
    return conn.execute(stmt).rowcount == 1


def give_back(conn: Connection, command_id: int, token: str) -> bool:
    """A claimed command the sink did not try: due again now, its attempt not counted
    (and no error recorded: nothing failed)."""
    stmt = (
        update(outbox)
        .where(_held(command_id, token))
        .values(
            state="pending",
            attempts=outbox.c.attempts - 1,
            next_attempt_at=time.time(),
            **_release_values(),
        )
    )
    return conn.execute(stmt).rowcount == 1


def supersede(conn: Connection, command_id: int, token: str, reason: str) -> bool:
    """Close a claimed command unwritten: its target changed since it was planned."""
    stmt = (
        update(outbox)
        .where(_held(command_id, token))
        .values(state="superseded", done_at=time.time(), last_error=reason, **_release_values())
    )
    return conn.execute(stmt).rowcount == 1


def park(conn: Connection, command_id: int, token: str, error: str) -> bool:
    """Move a claimed command to ``dead``; later commands of its object wait behind it."""
    stmt = (
        update(outbox)
        .where(_held(command_id, token))
        .values(state="dead", last_error=error, **_release_values())
    )
    return conn.execute(stmt).rowcount == 1


def release(conn: Connection, owner: str) -> int:
    """Give back every running claim of ``owner`` (shutdown): they are due again now."""
    stmt = (
        update(outbox)
        .where(outbox.c.claimed_by == owner, outbox.c.state == "running")
        .values(state="pending", next_attempt_at=time.time(), **_release_values())
    )
    return conn.execute(stmt).rowcount


def requeue(conn: Connection, command_id: int, now: float | None = None) -> bool:
    """A dead command becomes pending again with a fresh attempt budget."""
    stmt = (
        update(outbox)
        .where(outbox.c.id == command_id, outbox.c.state == "dead")
        .values(state="pending", attempts=0, next_attempt_at=now or time.time())
    )
    return conn.execute(stmt).rowcount == 1


def discard(conn: Connection, command_id: int) -> bool:
    stmt = (
        update(outbox)
        .where(outbox.c.id == command_id, outbox.c.state == "dead")
        .values(state="discarded", done_at=time.time())
    )
    return conn.execute(stmt).rowcount == 1


def get(conn: Connection, command_id: int) -> Command | None:
    row = conn.execute(select(outbox).where(outbox.c.id == command_id)).first()
    return _command(row) if row else None


_NEWEST_LIVE = (
    select(func.max(outbox.c.id))
    .where(
        one_of(outbox.c.object_key, "f_keys"), outbox.c.state.in_(("pending", "running", "done"))
    )
    .group_by(outbox.c.object_key)
)
_NEWEST_FINGERPRINTS = select(outbox.c.object_key, outbox.c.fingerprint).where(
    outbox.c.id.in_(_NEWEST_LIVE)
)


def last_fingerprints(conn: Connection, object_keys: Iterable[str]) -> dict[str, str]:
    """The fingerprint of the newest live command per object (what will be, or was, written)."""
    keys = sorted(set(object_keys))
    found: dict[str, str] = {}
    for chunk in chunks(keys):
        found.update(dict(conn.execute(_NEWEST_FINGERPRINTS, {"f_keys": list(chunk)}).all()))
    return found


def counts(conn: Connection) -> dict[str, int]:
    """Unfinished commands per state, plus ``retrying`` (pending after a failed attempt)."""
    rows = conn.execute(
        select(outbox.c.state, func.count()).where(UNFINISHED).group_by(outbox.c.state)
    ).all()
    result = {state: n for state, n in rows}
    result["retrying"] = conn.execute(
        select(func.count())
        .select_from(outbox)
        .where(UNFINISHED, outbox.c.state == "pending", outbox.c.last_error.is_not(None))
    ).scalar_one()
    return result


def pending_by_target(conn: Connection) -> dict[str, int]:
    rows = conn.execute(
        select(outbox.c.target, func.count())
        .where(UNFINISHED, outbox.c.state.in_(("pending", "running")))
        .group_by(outbox.c.target)
    )
    return dict(rows.all())


def oldest_pending_by_route(conn: Connection) -> dict[tuple[str, str], float]:
    """Oldest source change time of unapplied commands per (origin system, target)."""
    source_time = func.coalesce(outbox.c.source_changed_at, outbox.c.created_at)
    rows = conn.execute(
        select(outbox.c.origin_system, outbox.c.target, func.min(source_time))
        .where(UNFINISHED)
        .group_by(outbox.c.origin_system, outbox.c.target)
    )
    return {(origin, target): oldest for origin, target, oldest in rows}
