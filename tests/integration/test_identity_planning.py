"""The planner identifies a batch's people at once, with the same answers as one at a time."""

from __future__ import annotations

import pytest

from syncd.engine.contracts import Flow, FlowContext
from syncd.engine.pipeline import Pipeline
from syncd.engine.planning import plan_pending
from syncd.identity.keys import Record
from syncd.identity.resolver import Resolver
from syncd.model import Event, Outcome, Plan
from syncd.store import Store, inbox, leases


class BuyerFlow(Flow):
    """Identifies each receipt's buyer and notes the customer it got."""

    kind = "test_buyers"
    seen: dict[str, int | None]

    def people(self, event: Event) -> list[Record]:
        data = event.payload
        if data.get("broken"):
            raise ValueError("a buyer nobody can read")
        return [Record("pos:t", event.external_id, data.get("name", ""), phones=[data["phone"]])]

    def plan(self, event: Event, ctx: FlowContext) -> Plan:
        if event.payload.get("broken"):
            raise ValueError("a buyer nobody can read")
        (assignment,) = ctx.identify(self.people(event))
        self.seen[event.external_id] = assignment.identity
        return Plan(Outcome.UNCHANGED)


def receipts(n: int) -> list[Event]:
    # three forms of one number, then a person per receipt
    forms = ["8 (912) 345-67-89", "+7 912 3456789", "79123456789"]
    return [
        Event("pos", "receipt", f"r{i}", "1", {"phone": forms[i] if i < 3 else f"+7999{i:07d}"})
        for i in range(n)
    ]


def plan_all(store: Store, events: list[Event], batch_size: int) -> dict[str, int | None]:
    flow = BuyerFlow("buyers", "pos", [], "nowhere", None, None)  # type: ignore[arg-type]
    flow.seen = {}
    with store.begin() as conn:
        inbox.add(conn, events, stream="test")
        lease = leases.acquire(conn, "inbox", "me", 60)
    while plan_pending(store, Pipeline(flows=[flow]), lease, batch_size).events:
        pass
    return flow.seen


def test_a_batch_is_resolved_in_one_go_with_the_answers_of_one_at_a_time(store, monkeypatch):
    calls: list[int] = []
    resolve = Resolver.resolve

    def counted(self, conn, records):  # noqa: ANN001, ANN202
        calls.append(len(records))
        return resolve(self, conn, records)

    monkeypatch.setattr(Resolver, "resolve", counted)
    seen = plan_all(store, receipts(40), batch_size=50)
    assert calls == [40]  # one resolution for the batch; planning asked nothing more
    assert seen["r0"] == seen["r1"] == seen["r2"]  # one number in three spellings
    assert len({seen[f"r{i}"] for i in range(3, 40)} | {seen["r0"]}) == 38


@pytest.mark.parametrize("batch_size", [1, 7])
def test_batches_of_any_size_give_the_same_customers(tmp_path, batch_size):
    def customers_of(size: int) -> list[set[str]]:
        store = Store.open(f"sqlite:///{tmp_path}/{size}.db")
        store.upgrade()
        seen = plan_all(store, receipts(20), batch_size=size)
        store.dispose()
        groups: dict[int | None, set[str]] = {}
        for receipt, customer in seen.items():
            groups.setdefault(customer, set()).add(receipt)
        return sorted(groups.values(), key=sorted)

    assert customers_of(batch_size) == customers_of(50)


def test_a_record_that_breaks_the_batch_dead_letters_only_its_own_event(store):
    events = receipts(5)
    events[2] = Event("pos", "receipt", "bad", "1", {"broken": True})
    seen = plan_all(store, events, batch_size=50)
    assert set(seen) == {"r0", "r1", "r3", "r4"}  # the others were identified and planned
    assert seen["r0"] == seen["r1"]
    with store.read() as conn:
        assert inbox.count_pending(conn) == 0
