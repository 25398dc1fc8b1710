"""A sink round: a batch's independent objects applied side by side, within a deadline.

A sink gets a batch of commands, each the next write of a distinct object.
Applied one after another, one hung call held the whole batch (and the worker
running it) for its full timeout, then the next hung call did the same.  A
``SinkRound`` runs the batch's units of work — one object each, or one batch
upload — on a small pool of threads, so a slow object delays only itself; the
account's one pacer (``pacing``) still spaces every request, so running side
by side never raises the request rate.

The round has a deadline.  A unit that has not started when it passes is
not tried at all: its commands are handed back (``Result.not_tried``) to be
claimed again at once, without using up an attempt.  A unit that has started
runs on until its next call: the transport starts no call past the deadline
(``DeadlinePassed``), and each call is bounded by its timeouts — so a round
lasts at most the deadline plus one call's timeouts.  A unit stopped that way
before any of its writes went out (the transport tells ``note_write``) was
not tried either; one stopped after a write counts as an attempt, so that its
retry re-reads what that write did.

    round_ = SinkRound(pool, Deadline.after(30))
    results = round_.run([Unit([cmd], lambda: [edit(cmd)]) for cmd in commands])
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from syncd.engine.contracts import Result
from syncd.errors import PermanentError, TransientError
from syncd.failures import one_line
from syncd.model import Command

log = logging.getLogger(__name__)


class DeadlinePassed(TransientError):
    """The round's deadline passed before this call could start; it was not sent."""


_unit = threading.local()


def note_write() -> None:
    """A write is going out for the unit of work running on this thread (if any)."""
    _unit.writes = writes_sent() + 1


def writes_sent() -> int:
    """Writes sent so far by the unit running on this thread."""
    return getattr(_unit, "writes", 0)


@dataclass(frozen=True)
class Deadline:
    """A point in time on ``clock`` (monotonic seconds) after which no call starts."""

    at: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    def passed(self) -> bool:
        return self.clock() >= self.at

    def check(self, what: str) -> None:
        """Raise ``DeadlinePassed`` instead of starting ``what`` late."""
        if self.passed():
            raise DeadlinePassed(f"the sink round's deadline passed before {what}")


@dataclass
class Unit:
    """Work for some commands of a round (one object, or one upload of many)."""

    commands: list[Command]
    work: Callable[[], list[Result]]
    partial: bool = False  # may leave commands unanswered, for the caller to go on with


class SinkRound:
    def __init__(self, pool: Executor, deadline: Deadline) -> None:
        self.pool = pool
        self.deadline = deadline

    def run(self, units: list[Unit]) -> list[Result]:
        """Every unit's results, in the units' order; one result per command, always."""
        futures = [self.pool.submit(self._one, unit) for unit in units]
        results: list[Result] = []
        for future in futures:
            results += future.result()
        return results

    def _one(self, unit: Unit) -> list[Result]:
        if self.deadline.passed():
            reason = "not tried: the sink round's deadline passed first"
            return [Result.not_tried(c, reason) for c in unit.commands]
        _unit.writes = 0
        try:
            results = unit.work()
        except DeadlinePassed as exc:
            if not _unit.writes:  # stopped before any write went out: not tried
                return [Result.not_tried(c, str(exc)) for c in unit.commands]
            # a write went out: a counted attempt, so that its retry re-reads the object
            return [Result.failed(c, str(exc)) for c in unit.commands]
        except PermanentError as exc:
            return [Result.failed(c, str(exc), permanent=True) for c in unit.commands]
        except Exception as exc:  # one object's trouble stays with its commands
            error = one_line(exc)
            log.warning("sink work for %s failed: %s", _keys(unit.commands), error)
            return [Result.failed(c, error) for c in unit.commands]
        if unit.partial:
            return results
        answered = {r.command_id for r in results}
        missing = [c for c in unit.commands if (c.id or 0) not in answered]
        return results + [Result.failed(c, "the sink gave no result for it") for c in missing]


def _keys(commands: list[Command]) -> str:
    keys = [c.object_key for c in commands[:3]]
    return ", ".join(keys) + (f" and {len(commands) - 3} more" if len(commands) > 3 else "")
