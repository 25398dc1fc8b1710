"""Running a source: its events and its new cursor are stored together.

Each batch a source yields is written in one transaction — events into the
inbox (repeats dropped), rejected records into dead letters, the cursor
moved — after checking the stream's lease is still ours.  A crash at any
point repeats at most the batch in flight; the inbox drops the repeat.
A source's ``after_commit`` hook (confirming an exchange-plan message) runs
only once its batch is durable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from syncd.engine import failpoints
from syncd.engine.contracts import Source
from syncd.failures import one_line, traceback_for
from syncd.model import Event
from syncd.store import Store, cursors, dead_letters, inbox, leases
from syncd.store.leases import Lease, LeaseLost

log = logging.getLogger(__name__)


@dataclass
class SourceRun:
    stream: str
    new_events: int = 0
    rejected: int = 0
    ok: bool = True
    error: str | None = None


def run_source(store: Store, source: Source, lease: Lease) -> SourceRun:
    """Poll ``source`` once from its stored cursor and store what it yields."""
    run = SourceRun(source.name)
    with store.read() as conn:
        state = cursors.get(conn, source.name)
    cursor = state.cursor if state else None
    try:
        for batch in source.poll(cursor):
            failpoints.hit("source.after_poll")
            with store.begin() as conn:
                leases.fence(conn, lease)
                added = inbox.add(conn, batch.events, source.name)
                for bad in batch.rejected:
                    dead_letters.add(
                        conn,
                        kind="record",
                        origin=source.name,
                        subject=bad.subject,
                        error=bad.error,
                        payload=bad.payload,
                    )
                cursors.save(conn, lease, batch.cursor, added)
            failpoints.hit("source.after_commit")
            run.new_events += added
            run.rejected += len(batch.rejected)
            for bad in batch.rejected:
                log.warning(
                    "rejected input",
                    extra={"stream": source.name, "subject": bad.subject, "error": bad.error},
                )
            if batch.after_commit is not None:
                batch.after_commit()
    except LeaseLost as exc:
        run.ok, run.error = False, str(exc)
        log.warning("stream %s: lease lost, batch not stored: %s", source.name, exc)
    except Exception as exc:
        run.ok, run.error = False, one_line(exc)
        log.error("stream %s failed: %s", source.name, run.error, exc_info=traceback_for(exc, log))
    with store.begin() as conn:
        cursors.record_attempt(conn, source.name, ok=run.ok, error=run.error)
    return run


def take_pushed(store: Store, stream: str, events: list[Event]) -> int:
    """Store events a webhook pushed (no lease: the inbox drops repeats)."""
    with store.begin() as conn:
        return inbox.add(conn, events, stream)
