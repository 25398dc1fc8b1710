"""Applying: outbox commands go to their sink, results come back to the store.

A round claims due commands for one sink (heads of their objects only), hands
them to the sink, and records each result under the claim's token:

- applied → ``done``; the binding remembers the fingerprint of what was
  written (echo detection) and the apply latency is observed; the object as
  the write left it goes into the inbox when the sink hands it back;
- transient failure → back to ``pending`` with the next attempt time from the
  retry policy; after the last attempt → dead letter;
- permanent failure → dead letter at once, with the error;
- not tried (the sink's round ran out of time before it) → due again at
  once, without using up an attempt.

A dry run claims inside a transaction it rolls back: the planned writes are
logged, nothing is applied and nothing changes in the store.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from syncd.engine import failpoints
from syncd.engine.contracts import Result, Sink
from syncd.engine.retry import RetryPolicy
from syncd.errors import ClaimLost, PermanentError
from syncd.failures import one_line
from syncd.store import Store, bindings, dead_letters, inbox, outbox
from syncd.store.outbox import Claim

log = logging.getLogger(__name__)


@dataclass
class ApplyRound:
    claimed: int = 0
    applied: int = 0
    retried: int = 0
    dead: int = 0
    superseded: int = 0
    deferred: int = 0
    lost: int = 0


def claim_for(store: Store, sink: Sink, owner: str, claim_ttl: float) -> list[Claim]:
    with store.begin() as conn:
        return outbox.claim(
            conn, target=sink.name, owner=owner, limit=sink.batch_size, claim_ttl=claim_ttl
        )


def preview_for(store: Store, sink: Sink, owner: str, already_logged: set[int]) -> int:
    """Dry run: log the writes that are due, without applying or recording anything."""
    with store.engine.connect() as conn, conn.begin() as tx:
        claims = outbox.claim(conn, target=sink.name, owner=owner, limit=1000, claim_ttl=1)
        tx.rollback()
    fresh = [c for c in claims if c.command.id not in already_logged]
    for c in fresh:
        already_logged.add(c.command.id)  # type: ignore[arg-type]
        log.info(
            "dry run: would %s %s",
            c.command.action,
            c.command.object_key,
            extra={"sink": sink.name, "payload": c.command.payload, "flow": c.command.flow},
        )
    return len(fresh)


def apply_claims(
    store: Store,
    sink: Sink,
    claims: list[Claim],
    policy: RetryPolicy,
    metrics=None,  # noqa: ANN001
) -> ApplyRound:
    """Hand ``claims`` to ``sink`` and record every result."""
    round_ = ApplyRound(claimed=len(claims))
    # a command whose every attempt ended with the process dying is set aside, once
    poison = {
        c.command.id: Result.failed(
            c.command,
            f"applying it was cut short {c.command.interruptions} times (the process died "
            "or overran each time): set aside so that it cannot hold back the others",
            permanent=True,
        )
        for c in claims
        if c.command.interruptions >= policy.max_attempts
    }
    commands = [c.command for c in claims if c.command.id not in poison]
    book = sink.progress_book
    for claim in claims:
        book.open(claim.command.id, _progress_recorder(store, claim))  # type: ignore[arg-type]
    try:
        results = {r.command_id: r for r in sink.apply(commands)} if commands else {}
    except PermanentError as exc:
        results = {c.id: Result.failed(c, str(exc), permanent=True) for c in commands}
    except Exception as exc:
        error = one_line(exc)
        results = {c.id: Result.failed(c, error) for c in commands}
    finally:
        book.close(c.command.id for c in claims)  # type: ignore[misc]
    results.update(poison)
    failpoints.hit("sink.after_apply")

    now = time.time()
    outcome = {c.command.id: results.get(c.command.id) for c in claims}
    ok = [c for c in claims if outcome[c.command.id] and outcome[c.command.id].ok]
    failed = [c for c in claims if not (outcome[c.command.id] and outcome[c.command.id].ok)]
    latencies: list[tuple[str, float]] = []
    with store.begin() as conn:
        token = claims[0].token  # one claim, one token for the whole batch
        done = outbox.complete_many(conn, [c.command.id for c in ok], token, now)
        writes = []
        for claim in ok:
            cmd = claim.command
            if cmd.id not in done:
                continue
            origin = (cmd.origin_system, cmd.entity, cmd.origin_id) if cmd.origin_id else None
            ref = (sink.system, cmd.entity, cmd.key)
            result = outcome[cmd.id]
            writes.append(
                bindings.Write(ref, cmd.fingerprint, origin, result.remote_id, result.version)  # type: ignore[union-attr]
            )
            if cmd.source_changed_at:
                direction = f"{cmd.origin_system or 'syncd'}_to_{sink.system}"
                latencies.append((direction, max(0.0, now - cmd.source_changed_at)))
        bindings.record_writes(conn, writes, now)
        # what the writes made that no source reports (syncd's own CRM changes)
        made = [outcome[c.command.id].event for c in ok if c.command.id in done]
        if any(made):
            inbox.add(conn, [e for e in made if e is not None], sink.name)
        round_.applied = len(writes)
        round_.lost = len(ok) - len(writes)
        for claim in failed:
            cmd = claim.command
            result = outcome[cmd.id] or Result.failed(cmd, "the sink returned no result")
            if result.superseded:
                _record_superseded(conn, sink, claim, result, round_)
            elif result.deferred:
                _record_not_tried(conn, claim, round_)
            else:
                _record_failure(conn, sink, claim, result, policy, now, round_)
    failpoints.hit("sink.after_commit")
    if metrics is not None:
        for direction, seconds in latencies:
            metrics.apply_latency.labels(direction).observe(seconds)
        for outcome in ("applied", "retried", "dead", "superseded", "deferred"):
            if getattr(round_, outcome):
                metrics.commands.labels(sink.name, outcome).inc(getattr(round_, outcome))
    if round_.lost:
        log.warning(
            "%d result(s) from sink %s arrived after their claim expired; "
            "the commands will run again (sinks are idempotent)",
            round_.lost,
            sink.name,
        )
    return round_


def _progress_recorder(store: Store, claim: Claim):  # noqa: ANN202
    """Stores one command's progress at once, in its own transaction, under its claim."""
    command_id, token = claim.command.id, claim.token

    def record(progress: dict) -> None:
        with store.begin() as conn:
            if not outbox.note_progress(conn, command_id, token, progress):  # type: ignore[arg-type]
                raise ClaimLost(f"command {command_id}: its claim was taken by another attempt")

    return record


def _record_superseded(conn, sink: Sink, claim: Claim, result: Result, round_) -> None:  # noqa: ANN001
    """Not written: the target changed. Its current state goes back through the flows."""
    cmd = claim.command
    if not outbox.supersede(conn, cmd.id, claim.token, result.error or "changed meanwhile"):
        round_.lost += 1
        return
    if result.event is not None:
        inbox.add(conn, [result.event], sink.name)
    round_.superseded += 1
    log.warning(
        "command %s to %s not written: %s; the current object goes back through the flows",
        cmd.id,
        cmd.object_key,
        result.error,
    )


def _record_not_tried(conn, claim: Claim, round_: ApplyRound) -> None:  # noqa: ANN001
    """The sink had no time for it this round: due again now, the attempt not counted."""
    if outbox.give_back(conn, claim.command.id, claim.token):
        round_.deferred += 1
    else:
        round_.lost += 1


def _record_failure(
    conn,
    sink: Sink,
    claim: Claim,
    result: Result,
    policy: RetryPolicy,
    now: float,
    round_: ApplyRound,
) -> None:  # noqa: ANN001
    """Retry later, or dead-letter when permanent or out of attempts."""
    cmd = claim.command
    error = result.error or "failed"
    if result.permanent or policy.exhausted(cmd.attempts):
        if not outbox.park(conn, cmd.id, claim.token, error):
            round_.lost += 1
            return
        dead_letters.add(
            conn,
            kind="command",
            origin=sink.name,
            subject=cmd.object_key,
            error=error,
            payload=cmd.payload,
            ref_id=cmd.id,
            attempts=cmd.attempts,
        )
        round_.dead += 1
        log.error(
            "command %s to %s failed for good after %d attempt(s): %s",
            cmd.id,
            cmd.object_key,
            cmd.attempts,
            error,
        )
        return
    delay = policy.delay(cmd.attempts)
    if not outbox.retry_later(conn, cmd.id, claim.token, error, now + delay):
        round_.lost += 1
        return
    round_.retried += 1
    log.warning(
        "command %s to %s failed (attempt %d), retry in %.0f s: %s",
        cmd.id,
        cmd.object_key,
        cmd.attempts,
        delay,
        error,
    )
