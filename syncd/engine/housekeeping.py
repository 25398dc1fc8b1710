"""Housekeeping: retention rounds, run from the main loop a few short batches at a time.

Every ``retention.every_seconds`` the instance holding the inbox lease starts
a round: the inbox, the outbox, the dead letters and the conflicts are pruned
batch by batch (``syncd/store/retention.py``), then, on SQLite, the pages that
freed go back to the file system in steps of ``PAGES_PER_STEP``.  On
PostgreSQL, every ``retention.vacuum_check_seconds``, rounds or not, and right
after a round, each churning table with more than
``retention.vacuum_dead_ratio`` of its rows dead is vacuumed, the most bloated
first (autovacuum may be off, or behind: the outbox's and the inbox's rows
change state several times a second under load; one table per look let the
others reach twice the share in between); only its TOAST table when that
alone is bloated, and with ``ANALYZE`` at most every ten minutes (a vacuum
of the bindings with its statistics took 0.35 s of the loop, without 0.08 s).  One
main-loop iteration runs at most ``BATCHES_PER_TICK`` batches, or
``TICK_BUDGET_SECONDS``, and the round goes on at the next iteration, so the
loop keeps renewing leases, planning and feeding the sinks in between.  Each
batch is a transaction of its own, fenced by the inbox lease (one instance
prunes at a time), and never runs inside the planner's transactions: the loop
calls it after planning returned.

Each round's counts go to ``syncd_store_pruned_rows_total{table}`` and, when
anything went, to one INFO log line.  Every instance, holder or not, measures
the store's size once per period (``syncd_store_size_bytes``).

    housekeeping = Housekeeping(store, metrics)
    housekeeping.tick(settings.retention, leases.held("inbox"))   # each iteration
    housekeeping.run_round(settings.retention, lease)              # all at once
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

from syncd import clock, memory
from syncd.config_retention import DAY, RetentionSettings
from syncd.store import Store, leases, retention
from syncd.store.leases import Lease, LeaseLost

log = logging.getLogger(__name__)

BATCHES_PER_TICK = 4
TICK_BUDGET_SECONDS = 0.25
PAGES_PER_STEP = 1000  # 4 MB with SQLite's default page size
ANALYZE_EVERY_SECONDS = 600.0  # a table's statistics refreshed with its vacuum at most this often

TABLES = ("inbox", "outbox", "dead_letters", "conflicts")
PRUNE = {
    "outbox": retention.prune_commands,
    "dead_letters": retention.prune_dead_letters,
    "conflicts": retention.prune_conflicts,
}


@dataclass
class Round:
    """One pass over the tables, with its cutoffs fixed when it starts."""

    cutoffs: dict[str, float]
    step: int = 0  # index in TABLES; past them: giving pages back
    position: tuple[float, int] = retention.START
    pruned: Counter = field(default_factory=Counter)  # rows per table
    versions_kept: int = 0  # of the inbox's: an object's newest, its version kept
    pages: int = 0
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def starting(cls, now: float, settings: RetentionSettings) -> Round:
        days = {
            "inbox": settings.events_days,
            "outbox": settings.commands_days,
            "dead_letters": settings.dead_letters_days,
            "conflicts": settings.conflicts_days,
        }
        return cls({table: now - d * DAY for table, d in days.items()})


class Housekeeping:
    def __init__(self, store: Store, metrics=None) -> None:  # noqa: ANN001 - syncd.metrics
        self.store = store
        self.metrics = metrics
        self.round: Round | None = None
        self._next_round_at = 0.0  # monotonic
        self._next_vacuum_look_at = 0.0  # monotonic
        self._analyzed: dict[str, float] = {}  # table -> when its statistics were (monotonic)

    def tick(self, settings: RetentionSettings, lease: Lease | None) -> None:
        """This iteration's share: start a round when one is due, run a few batches."""
        now = time.monotonic()
        if lease is not None and now >= self._next_vacuum_look_at:
            self._next_vacuum_look_at = now + settings.vacuum_check_seconds
            self._vacuum_bloated(settings)
        if self.round is None:
            if now < self._next_round_at:
                return
            self._next_round_at = now + settings.every_seconds
            self.measure()
            if lease is None:
                return
            self.round = Round.starting(clock.now(), settings)
        if lease is None:  # the inbox lease moved: the new holder prunes
            self.round = None
            return
        deadline = now + TICK_BUDGET_SECONDS
        for _ in range(BATCHES_PER_TICK):
            if not self._batch(settings, lease):
                return
            if time.monotonic() >= deadline:
                return

    def run_round(self, settings: RetentionSettings, lease: Lease) -> Round:
        """A whole round at once (``syncd run --once``, tests); returns its counts."""
        self.round = Round.starting(clock.now(), settings)
        done = self.round
        while self._batch(settings, lease):
            pass
        self._vacuum_bloated(settings)
        return done

    def measure(self) -> int | None:
        """The store's size on disk, into ``syncd_store_size_bytes``."""
        try:
            size = retention.size_bytes(self.store)
        except Exception as exc:  # the store is down: the loop says so elsewhere
            log.debug("cannot measure the store: %s", type(exc).__name__)
            return None
        if self.metrics is not None:
            self.metrics.store_size.set(size)
        return size

    # -- one batch ---------------------------------------------------------------------
    def _batch(self, settings: RetentionSettings, lease: Lease) -> bool:
        """One batch of the current round; False once the round is over (or dropped)."""
        r = self.round
        if r is None:
            return False
        try:
            more = self._next_step(r, settings, lease)
        except LeaseLost:
            log.info("retention stops here: the inbox lease moved to another instance")
            more = self._drop()
        except Exception as exc:  # the store is briefly unreachable: the next round goes on
            log.warning("retention round stopped: %s: %s", type(exc).__name__, exc)
            more = self._drop()
        if not more and self.round is r:
            self._finish(r)
        return more

    def _next_step(self, r: Round, settings: RetentionSettings, lease: Lease) -> bool:
        if r.step >= len(TABLES):
            return self.store.dialect == "sqlite" and self._give_back_pages(r)
        table = TABLES[r.step]
        with self.store.begin() as conn:
            leases.fence(conn, lease)
            if table == "inbox":
                batch = retention.prune_events(
                    conn, r.cutoffs[table], settings.batch_rows, r.position
                )
                r.position, r.versions_kept = batch.position, r.versions_kept + batch.versions_kept
                pruned, finished = batch.deleted, batch.finished
            else:
                pruned = PRUNE[table](conn, r.cutoffs[table], settings.batch_rows)
                finished = pruned < settings.batch_rows
        r.pruned[table] += pruned
        if pruned and self.metrics is not None:
            self.metrics.store_pruned_rows.labels(table).inc(pruned)
        if finished:
            r.step += 1
        return True

    def _give_back_pages(self, r: Round) -> bool:
        if not sum(r.pruned.values()):
            return False
        freed = retention.give_back_pages(self.store, PAGES_PER_STEP)
        r.pages += freed
        return freed == PAGES_PER_STEP

    def _vacuum_bloated(self, settings: RetentionSettings) -> None:
        """PostgreSQL: each bloated churning table vacuumed, the most bloated first (only
        its TOAST table when that alone is bloated); its statistics refreshed with it at
        most every ANALYZE_EVERY_SECONDS (an ANALYZE of a large table cost 4x the vacuum)."""
        try:
            bloated = retention.bloated_tables(self.store, settings.vacuum_dead_ratio)
            for table, dead, toast_only in bloated:
                started = time.monotonic()
                analyze = not toast_only and (
                    started - self._analyzed.get(table, -ANALYZE_EVERY_SECONDS)
                    >= ANALYZE_EVERY_SECONDS
                )
                retention.vacuum(self.store, table, toast_only=toast_only, analyze=analyze)
                if analyze:
                    self._analyzed[table] = started
                log.info(
                    "vacuumed %s%s in %.1f s: %.0f%% of its %s were dead",
                    table,
                    "'s TOAST table" if toast_only else "",
                    time.monotonic() - started,
                    dead * 100,
                    "chunks" if toast_only else "rows",
                    extra={"table": table, "dead_ratio": round(dead, 3), "toast": toast_only},
                )
                if self.metrics is not None:
                    self.metrics.store_vacuums.labels(table).inc()
        except Exception as exc:  # the store is briefly unreachable: the next look goes on
            log.warning("vacuum skipped: %s: %s", type(exc).__name__, exc)

    def _drop(self) -> bool:
        self.round = None
        return False

    def _finish(self, r: Round) -> None:
        self.round = None
        memory.give_back()  # what the round's batches (and the loop since) freed
        if not sum(r.pruned.values()):
            return
        self._next_vacuum_look_at = 0.0  # the deleted rows are dead rows: look now
        size = self.measure()
        counts = {table: r.pruned[table] for table in TABLES}
        log.info(
            "retention pruned %s rows (inbox %d, %d versions kept, outbox %d, dead letters %d, "
            "conflicts %d) in %.1f s; %d free pages given back; the store takes %s bytes",
            sum(counts.values()),
            counts["inbox"],
            r.versions_kept,
            counts["outbox"],
            counts["dead_letters"],
            counts["conflicts"],
            time.monotonic() - r.started,
            r.pages,
            size if size is not None else "?",
            extra={
                "pruned": counts,
                "versions_kept": r.versions_kept,
                "pages": r.pages,
                "size": size,
            },
        )
