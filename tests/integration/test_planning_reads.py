"""The planner reads what a batch's flows need in a few queries, whatever the batch's size,
and the flows get the same answers as when each lookup went to the store."""

from __future__ import annotations

import pytest

from syncd.engine.contracts import Flow, FlowContext
from syncd.engine.pipeline import Pipeline
from syncd.engine.planning import plan_pending
from syncd.identity.keys import Record
from syncd.model import Event, Outcome, Plan
from syncd.store import Store, bindings, inbox, leases


class LookingFlow(Flow):
    """Reads an order's CRM binding, the CRM side's pending change and the buyer's records."""

    kind = "test_looking"
    seen: dict[str, tuple]

    def accepts(self, event: Event) -> bool:
        return event.system == "erp"

    def looks_up(self, event: Event) -> list[tuple[str, str, str]]:
        return [("crm", "order", event.external_id)]

    def people(self, event: Event) -> list[Record]:
        return [Record("erp", event.payload["buyer"], "", phones=[event.payload["phone"]])]

    def plan(self, event: Event, ctx: FlowContext) -> Plan:
        (who,) = ctx.identify(self.people(event))
        written = ctx.binding("crm", "order", event.external_id)
        other = ctx.pending("crm", "order", event.external_id)
        figures = ctx.facts("identity", "customer", str(who.identity))
        self.seen[event.external_id] = (
            written.fingerprint if written else None,
            other.version if other else None,
            [i for s, i in ctx.customer_ids(who.identity) if s == "erp"],
            figures,
        )
        return Plan(Outcome.UNCHANGED)


def world(store: Store, n: int) -> tuple[list[Event], object]:
    events = []
    for i in range(n):
        buyer = {"buyer": f"p{i % 3}", "phone": f"+7999000000{i % 3}"}
        events.append(Event("erp", "order", f"o{i}", "1", buyer))
        if i % 2:  # the CRM side changed in the same cycle
            events.append(Event("crm", "order", f"o{i}", f"v{i}", {}))
    with store.begin() as conn:
        inbox.add(conn, events, stream="test")
        for i in range(0, n, 3):  # some orders are in the CRM already
            bindings.record_write(conn, ("crm", "order", f"o{i}"), f"fp{i}")
        lease = leases.acquire(conn, "inbox", "me", 60)
    return events, lease


def expected(n: int) -> dict[str, tuple]:
    return {
        f"o{i}": (
            f"fp{i}" if i % 3 == 0 else None,
            f"v{i}" if i % 2 else None,
            [f"p{i % 3}"],
            None,
        )
        for i in range(n)
    }


def plan_once(store: Store, n: int, batch_size: int, monkeypatch) -> tuple[dict, int]:
    flow = LookingFlow("looking", "erp", [], "nowhere", None, None)  # type: ignore[arg-type]
    flow.seen = {}
    _, lease = world(store, n)
    return flow.seen, planned_counting_reads(store, flow, lease, batch_size, monkeypatch)


def planned_counting_reads(store: Store, flow: Flow, lease, batch_size: int, monkeypatch) -> int:  # noqa: ANN001
    """One planning round of ``flow``; how many read transactions it opened."""
    reads = []
    real_read = Store.read

    def counted(self):  # noqa: ANN001, ANN202
        reads.append(1)
        return real_read(self)

    monkeypatch.setattr(Store, "read", counted)
    plan_pending(store, Pipeline(flows=[flow]), lease, batch_size)
    monkeypatch.setattr(Store, "read", real_read)
    return len(reads)


@pytest.mark.parametrize("n", [6, 60])
def test_a_batchs_lookups_take_the_same_few_reads_whatever_its_size(store, monkeypatch, n):
    seen, reads = plan_once(store, n, batch_size=500, monkeypatch=monkeypatch)
    assert seen == expected(n)
    assert reads <= 4  # the batch, its customers, the unchanged-check: not one per event


def test_a_full_batch_asks_the_store_for_changes_waiting_beyond_it(store, monkeypatch):
    n = 6  # 9 events; a batch of 9 may not hold every pending change, so each is looked up
    seen, reads = plan_once(store, n, batch_size=9, monkeypatch=monkeypatch)
    assert seen == expected(n)
    assert reads > 4


class PartnerFlow(Flow):
    """Like the order flow: asks who an order's partner (a bare id, no keys) is."""

    kind = "test_partner"
    seen: dict[str, int | None]

    def plan(self, event: Event, ctx: FlowContext) -> Plan:
        (who,) = ctx.identify([Record("erp", event.payload["partner"])])
        self.seen[event.external_id] = who.identity
        return Plan(Outcome.UNCHANGED)


def test_a_known_partner_is_looked_up_not_resolved_again(store, monkeypatch):
    from syncd.identity.resolver import Resolver

    with store.begin() as conn:
        (known,) = Resolver().resolve(conn, [Record("erp", "p1", "Анна", phones=["+79990001"])])
        inbox.add(
            conn,
            [Event("erp", "order", f"o{i}", "1", {"partner": "p1"}) for i in range(5)]
            + [Event("erp", "order", "o9", "1", {"partner": "p-new"})],
            stream="test",
        )
        lease = leases.acquire(conn, "inbox", "me", 60)
    resolved: list[list] = []
    real = Resolver.resolve

    def counted(self, conn, records):  # noqa: ANN001, ANN202
        resolved.append([r.source_id for r in records])
        return real(self, conn, records)

    monkeypatch.setattr(Resolver, "resolve", counted)
    flow = PartnerFlow("partners", "erp", [], "nowhere", None, None)  # type: ignore[arg-type]
    flow.seen = {}
    plan_pending(store, Pipeline(flows=[flow]), lease, 500)
    assert {k: v for k, v in flow.seen.items() if k != "o9"} == {
        f"o{i}": known.identity for i in range(5)
    }
    assert resolved == [["p-new"]]  # only the partner nobody knew went to the resolver


class DeclaringPartnerFlow(PartnerFlow):
    """The same, saying ahead which partners its plans will ask about."""

    kind = "test_declaring_partner"

    def partners(self, event: Event, ctx: FlowContext) -> list[Record]:
        return [Record("erp", event.payload["partner"])]


@pytest.mark.parametrize("n", [5, 50])
def test_a_batch_s_declared_partners_are_looked_up_in_one_go(store, monkeypatch, n):
    from syncd.identity.resolver import Resolver

    with store.begin() as conn:
        known = Resolver().resolve(
            conn, [Record("erp", f"p{i}", "Анна", phones=[f"+7999000{i:04}"]) for i in range(3)]
        )
        events = [Event("erp", "order", f"o{i}", "1", {"partner": f"p{i % 3}"}) for i in range(n)]
        inbox.add(conn, events + [Event("erp", "order", "o-new", "1", {"partner": "p-new"})], "t")
        lease = leases.acquire(conn, "inbox", "me", 60)
    flow = DeclaringPartnerFlow("partners", "erp", [], "nowhere", None, None)  # type: ignore[arg-type]
    flow.seen = {}
    reads = planned_counting_reads(store, flow, lease, 500, monkeypatch)
    assert {k: v for k, v in flow.seen.items() if k != "o-new"} == {
        f"o{i}": known[i % 3].identity for i in range(n)
    }
    assert "o-new" in flow.seen  # a partner nobody knew still goes to the resolver when asked
    assert reads <= 5  # not two reads an event: the batch, its partners and their customers
