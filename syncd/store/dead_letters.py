"""Dead letters: what syncd could not process, kept with the reason.

Three kinds: ``command`` (a write a sink refused or kept failing; its outbox
row is parked as ``dead`` and holds back later writes of the same object),
``event`` (a change a flow could not plan) and ``record`` (input a source
could not even turn into an event — a bad file row, with file and line).
Retrying puts the command or event back in line; discarding lets go of it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select, update

from syncd.store import inbox, outbox
from syncd.store.schema import dead_letters
from syncd.store.sql import dumps, loads


@dataclass(frozen=True)
class DeadLetter:
    id: int
    kind: str
    origin: str
    ref_id: int | None
    subject: str
    payload: Any
    error: str
    attempts: int
    state: str
    created_at: float


def _letter(row) -> DeadLetter:  # noqa: ANN001
    return DeadLetter(
        row.id,
        row.kind,
        row.origin,
        row.ref_id,
        row.subject,
        loads(row.payload),
        row.error,
        row.attempts,
        row.state,
        row.created_at,
    )


def add(
    conn: Connection,
    *,
    kind: str,
    origin: str,
    subject: str,
    error: str,
    payload: Any = None,
    ref_id: int | None = None,
    attempts: int = 0,
) -> int:
    return conn.execute(
        dead_letters.insert().returning(dead_letters.c.id),
        {
            "kind": kind,
            "origin": origin,
            "ref_id": ref_id,
            "subject": subject[:512],
            "payload": dumps(payload),
            "error": error,
            "attempts": attempts,
            "state": "open",
            "created_at": time.time(),
        },
    ).scalar_one()


def list_open(conn: Connection, limit: int = 100) -> list[DeadLetter]:
    rows = conn.execute(
        select(dead_letters)
        .where(dead_letters.c.state == "open")
        .order_by(dead_letters.c.id)
        .limit(limit)
    )
    return [_letter(r) for r in rows]


def get(conn: Connection, letter_id: int) -> DeadLetter | None:
    row = conn.execute(select(dead_letters).where(dead_letters.c.id == letter_id)).first()
    return _letter(row) if row else None


def count_open(conn: Connection) -> dict[str, int]:
    rows = conn.execute(
        select(dead_letters.c.kind, func.count())
        .where(dead_letters.c.state == "open")
        .group_by(dead_letters.c.kind)
    )
    return dict(rows.all())


def _resolve(conn: Connection, letter_id: int, state: str) -> None:
    conn.execute(
        update(dead_letters)
        .where(dead_letters.c.id == letter_id)
        .values(state=state, resolved_at=time.time())
    )


def retry(conn: Connection, letter_id: int) -> str:
    """Put the dead command or event back in line. Returns what happened, for the operator."""
    letter = get(conn, letter_id)
    if letter is None:
        raise KeyError(f"no dead letter {letter_id}")
    if letter.state != "open":
        raise ValueError(f"dead letter {letter_id} is already {letter.state}")
    if letter.kind == "command":
        if not outbox.requeue(conn, letter.ref_id):  # type: ignore[arg-type]
            raise ValueError(f"command {letter.ref_id} is no longer dead")
        outcome = f"command {letter.ref_id} for {letter.subject} queued again"
    elif letter.kind == "event":
        if not inbox.requeue(conn, letter.ref_id):  # type: ignore[arg-type]
            raise ValueError(f"event {letter.ref_id} no longer exists")
        outcome = f"event {letter.ref_id} ({letter.subject}) will be planned again"
    else:
        raise ValueError(
            f"dead letter {letter_id} is a rejected input record ({letter.subject}); "
            "fix the source data and drop it again, or discard this letter"
        )
    _resolve(conn, letter_id, "retried")
    return outcome


def discard(conn: Connection, letter_id: int) -> str:
    letter = get(conn, letter_id)
    if letter is None:
        raise KeyError(f"no dead letter {letter_id}")
    if letter.state != "open":
        raise ValueError(f"dead letter {letter_id} is already {letter.state}")
    if letter.kind == "command":
        outbox.discard(conn, letter.ref_id)  # type: ignore[arg-type]
    _resolve(conn, letter_id, "discarded")
    return f"dead letter {letter_id} ({letter.subject}) discarded"
