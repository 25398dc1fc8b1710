"""Planning: inbox events become outbox commands through the flows.

The inbox is planned by one instance at a time (lease ``inbox``), oldest
event first, a batch per transaction.  For each batch:

1. events superseded by a newer event of the same object are skipped (an
   event is a snapshot of the object, so the newest one says it all — this
   is also why replaying the inbox cannot move an object backwards);
2. every flow that accepts the event plans it (pure: a read-only view of the
   store in, commands out), and each command is checked against its sink's
   actions (``syncd.engine.actions``); a flow that raises, or a command that
   is not one of its sink's actions, dead-letters the event;
3. a command whose data equals what syncd already wrote (or queued) for the
   same object is dropped as ``unchanged``;
4. commands, conflicts, dead letters, timers (cancelled, then scheduled), free
   stock and the events' outcomes are written in one transaction, fenced by
   the lease.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from syncd.engine import actions, failpoints
from syncd.engine.contracts import FlowContext
from syncd.engine.pipeline import Pipeline
from syncd.failures import one_line, traceback_for
from syncd.model import Command, Event, Outcome, Plan
from syncd.store import (
    Store,
    bindings,
    conflicts,
    dead_letters,
    inbox,
    leases,
    outbox,
    stock,
    timers,
)
from syncd.store.leases import Lease

log = logging.getLogger(__name__)

# When flows disagree about one event, the most telling outcome is reported.
RANK = [
    Outcome.FAILED,
    Outcome.CONFLICT,
    Outcome.CREATED,
    Outcome.UPDATED,
    Outcome.SKIPPED_ECHO,
    Outcome.UNCHANGED,
]


class StoreView(FlowContext):
    """Read-only bindings for flows, prefetched for a batch and cached.

    What a batch's flows will read is fetched up front in a few queries: the
    bindings of the events' objects and of what the flows say they look up
    (``Flow.looks_up``), the customers' bindings and records once the batch's
    people are identified.  When the batch holds every pending event (it came
    back shorter than the batch size), "the newest pending change of X" is
    answered from the batch itself.  Anything else is read when asked.
    """

    def __init__(
        self,
        store: Store,
        prefetched: dict,
        looked_up: Iterable,
        batch: list[Event] | None = None,
        resolver=None,  # noqa: ANN001
    ) -> None:
        self.store = store
        self.resolver = resolver  # None: by keys (identity.resolver.Resolver)
        # a ref looked up but not found is cached as None: no second query
        self.cache = {ref: prefetched.get(ref) for ref in looked_up}
        self.remembered: dict = {}
        self.kept_stock: list[tuple[str, str, object]] = []
        self.identified: dict[tuple[str, str], object] = {}  # (source, id) -> Assignment
        self.records: dict[int, list[tuple[str, str]]] = {}  # identity -> (source, id)
        # every pending event, by object (None: pending events beyond the batch exist)
        self.batch_pending: dict[tuple[str, str, str], Event] | None = None
        if batch is not None:
            self.batch_pending = {}
            for ev in batch:  # in id order: the newest of each object stays
                self.batch_pending[_ref(ev)] = ev

    def binding(self, system: str, entity: str, external_id: str) -> bindings.Binding | None:
        ref = (system, entity, external_id)
        if ref not in self.cache:
            with self.store.read() as conn:
                self.cache[ref] = bindings.get(conn, *ref)
        return self.cache[ref]

    def counterpart(self, system: str, entity: str, external_id: str, other: str):  # noqa: ANN201
        with self.store.read() as conn:
            return bindings.counterpart(conn, (system, entity, external_id), other)

    def facts(self, system: str, entity: str, external_id: str) -> dict | None:
        ref = (system, entity, external_id)
        if ref in self.remembered:
            return self.remembered[ref]
        found = self.binding(*ref)
        return found.facts if found is not None else None

    def pending(self, system: str, entity: str, external_id: str) -> Event | None:
        if self.batch_pending is not None:
            return self.batch_pending.get((system, entity, external_id))
        with self.store.read() as conn:
            return inbox.newest_pending(conn, system, entity, external_id)

    def identify(self, records: list) -> list:
        found = [self.identified.get((r.source, r.source_id)) for r in records]
        if all(a is not None for a in found):
            return found
        missing = [r for r, a in zip(records, found, strict=True) if a is None]
        if all(_bare(r) for r in missing) and self._known(missing):
            return [self.identified[(r.source, r.source_id)] for r in records]
        return self._resolve(records)

    def _known(self, records: list) -> bool:
        """Records that bring nothing but their id (an order's partner) and are bound
        already need no resolution, only a look: True when every one of them is."""
        self.look_ahead(records)
        return all((r.source, r.source_id) in self.identified for r in records)

    def look_ahead(self, records: list) -> None:
        """A batch's bare records looked up at once: the bound ones answered by
        ``identify`` from here, their customers' records and facts prefetched."""
        from syncd.identity import index
        from syncd.identity.resolver import Assignment

        wanted = {(r.source, r.source_id): r for r in records}
        wanted = {k: r for k, r in wanted.items() if k not in self.identified}
        if not wanted:
            return
        with self.store.read() as conn:
            _, bound = index.look(conn, [], list(wanted))
        for ref, identity in bound.items():
            self.identified[ref] = Assignment(wanted[ref], identity)
        self._prefetch_customers(set(bound.values()))

    def identify_ahead(self, records: list) -> None:
        """Resolve a batch's records at once; ``identify`` answers from it."""
        if records:
            self._resolve(records)

    def _resolve(self, records: list) -> list:
        from syncd.identity.resolver import Resolver

        if self.resolver is None:
            self.resolver = Resolver()
        with self.store.begin() as conn:
            assigned = self.resolver.resolve(conn, records)
        for a in assigned:
            self.identified[(a.record.source, a.record.source_id)] = a
        self._prefetch_customers({a.identity for a in assigned if a.identity is not None})
        return assigned

    def _prefetch_customers(self, identities: set[int]) -> None:
        """What the flows read next of these customers: their records and their facts."""
        from syncd.identity import index

        if not identities:
            return
        people = sorted(identities)
        refs = [("identity", "customer", str(i)) for i in people]
        with self.store.read() as conn:
            self.records.update(index.records_of_many(conn, people))
            found = bindings.get_many(conn, [r for r in refs if r not in self.cache])
        for ref in refs:
            self.cache.setdefault(ref, found.get(ref))

    def customer_ids(self, identity: int) -> list[tuple[str, str]]:
        from syncd.identity import index

        if identity not in self.records:
            with self.store.read() as conn:
                self.records[identity] = index.records_of(conn, identity)
        return self.records[identity]

    def remember(self, facts: dict) -> None:
        """Facts a plan keeps: seen at once by the next events of this batch."""
        self.remembered.update(facts)

    def stock(self, offers: Iterable[str]) -> list[dict]:
        """Free stock rows of these offers; a row this batch's plans keep wins."""
        wanted = set(offers)
        with self.store.read() as conn:
            rows = {(r["offer"], r["store"]): r for r in stock.rows_of(conn, wanted)}
        for offer, store_code, available in self.kept_stock:
            if offer in wanted:
                rows[(offer, store_code)] = {
                    "offer": offer, "store": store_code, "available": Decimal(available)
                }  # fmt: skip
        return list(rows.values())

    def keep_stock(self, rows: list) -> None:
        """Stock a plan keeps: read at once by the next events of this batch."""
        self.kept_stock.extend(rows)


@dataclass
class PlanningRound:
    events: int = 0
    commands: int = 0
    outcomes: Counter | None = None


def plan_pending(
    store: Store, pipeline: Pipeline, lease: Lease, batch_size: int, metrics=None
) -> PlanningRound:  # noqa: ANN001
    """Plan one batch of pending events; returns how many were planned."""
    with store.read() as conn:
        events = inbox.pending(conn, batch_size)
        if not events:
            return PlanningRound()
        newest = inbox.newest_ids(conn, events)
        refs = {_ref(e) for e in events} | _looked_up(pipeline, events)
        known = bindings.get_many(conn, refs)
    pending = events if len(events) < batch_size else None
    view = StoreView(store, known, refs, pending, pipeline.resolver)

    outcome_of: dict[int, tuple[str, str]] = {}
    planned: list[tuple[Event, Plan]] = []
    failed: list[tuple[Event, str]] = []
    per_stream: Counter = Counter()
    _identify_ahead(view, pipeline, [ev for ev in events if newest.get(_ref(ev), ev.id) == ev.id])
    for ev in events:
        if newest.get(_ref(ev), ev.id) != ev.id:
            outcome_of[ev.id] = ("done", Outcome.UNCHANGED)  # superseded
            continue
        try:
            plans = [f.plan(ev, view) for f in pipeline.flows if f.accepts(ev)]
            _check_actions(pipeline, plans)
        except Exception as exc:
            error = one_line(exc)
            log.error("flow failed on %s: %s", ev.key, error, exc_info=traceback_for(exc, log))
            failed.append((ev, error))
            outcome_of[ev.id] = ("failed", Outcome.FAILED)
            continue
        merged = _merge(plans)
        view.remember(merged.remember)
        view.keep_stock(merged.stock)
        planned.append((ev, merged))

    commands = _drop_unchanged(store, pipeline, planned)
    for ev, plan in planned:
        outcome_of[ev.id] = ("done", plan.outcome)
    failpoints.hit("flow.after_plan")

    with store.begin() as conn:
        leases.fence(conn, lease)
        outbox.enqueue(conn, commands)
        bindings.remember(conn, view.remembered)
        for _, plan in planned:
            for c in plan.conflicts:
                conflicts.add(conn, c)
            for kind, subject, why in plan.cancel_timers:
                timers.cancel(conn, kind, subject, why)
            timers.schedule(conn, plan.timers)
            if plan.stock:
                stock.put(conn, plan.stock, time.time())
        for ev, error in failed:
            dead_letters.add(
                conn,
                kind="event",
                origin=ev.stream,
                subject=ev.key,
                error=error,
                payload=ev.payload,
                ref_id=ev.id,
            )
        inbox.mark(conn, outcome_of)
    failpoints.hit("flow.after_commit")

    by_id = {ev.id: ev for ev in events}
    for event_id, (_, outcome) in outcome_of.items():
        per_stream[(by_id[event_id].stream, str(outcome))] += 1
    if metrics is not None:
        for (stream, outcome), n in per_stream.items():
            metrics.records.labels(stream, outcome).inc(n)
    return PlanningRound(len(events), len(commands), per_stream)


def _ref(ev: Event) -> tuple[str, str, str]:
    return (ev.system, ev.entity, ev.external_id)


def _bare(record) -> bool:  # noqa: ANN001 - identity.Record
    return not (record.name or record.phones or record.emails or record.cards)


def _looked_up(pipeline: Pipeline, events: list[Event]) -> set[tuple[str, str, str]]:
    """The bindings the flows say they will read for these events (fetched at once)."""
    refs: set[tuple[str, str, str]] = set()
    for ev in events:
        for f in pipeline.flows:
            try:
                if f.accepts(ev):
                    refs.update(f.looks_up(ev))
            except Exception:  # the flow's plan will meet the same problem and say so
                log.debug("%s cannot say what it looks up for %s", f.name, ev.key)
    return refs


def _identify_ahead(view: StoreView, pipeline: Pipeline, events: list[Event]) -> None:
    """The people of the whole batch in one resolution; on any error each event
    identifies its own while planned (so a bad one dead-letters only itself)."""
    try:
        people = [r for ev in events for f in pipeline.flows if f.accepts(ev) for r in f.people(ev)]
        view.identify_ahead(people)
        partners = [
            r
            for ev in events
            for f in pipeline.flows
            if f.accepts(ev)
            for r in f.partners(ev, view)
        ]
        view.look_ahead([r for r in partners if _bare(r)])
    except Exception as exc:
        log.warning("identifying the batch at once failed (%s); one event at a time", exc)
        view.identified.clear()


def _check_actions(pipeline: Pipeline, plans: list[Plan]) -> None:
    """Each command is one of its sink's actions, with that action's payload
    (``actions.BadCommand`` names the action and the field otherwise)."""
    for plan in plans:
        for command in plan.commands:
            sink = pipeline.sinks.get(command.target)
            if sink is not None:
                actions.check(command, sink.actions, command.target)


def _merge(plans: list[Plan]) -> Plan:
    if not plans:
        return Plan(Outcome.UNCHANGED, note="no flow takes this event")
    merged = Plan(min((p.outcome for p in plans), key=RANK.index))
    for p in plans:
        merged.commands.extend(p.commands)
        merged.conflicts.extend(p.conflicts)
        merged.remember.update(p.remember)
        merged.cancel_timers.extend(p.cancel_timers)
        merged.timers.extend(p.timers)
        merged.stock.extend(p.stock)
    return merged


def _drop_unchanged(
    store: Store, pipeline: Pipeline, planned: list[tuple[Event, Plan]]
) -> list[Command]:
    """Keep only commands that would change something; set created/updated outcomes."""
    wanted = [c for _, plan in planned for c in plan.commands]
    if not wanted:
        return []
    refs = {c.object_key: (pipeline.sink_system(c.target), c.entity, c.key) for c in wanted}
    with store.read() as conn:
        queued = outbox.last_fingerprints(conn, refs)
        written = bindings.get_many(conn, refs.values())
    last = {
        k: queued.get(k) or getattr(written.get(ref), "fingerprint", None)
        for k, ref in refs.items()
    }
    kept: list[Command] = []
    for _, plan in planned:
        fresh: list[Command] = []
        created = False
        for c in plan.commands:
            previous = last.get(c.object_key)
            if previous == c.fingerprint:
                continue
            created = created or previous is None
            last[c.object_key] = c.fingerprint
            fresh.append(c)
        if plan.commands and plan.outcome in (Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED):
            if not fresh:
                plan.outcome = Outcome.UNCHANGED
            else:
                plan.outcome = Outcome.CREATED if created else Outcome.UPDATED
        plan.commands = fresh
        kept.extend(fresh)
    return kept
