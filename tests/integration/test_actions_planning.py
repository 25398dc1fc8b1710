"""Planning checks every command against its sink's actions before storing it: a bad one
dead-letters the event that made it, naming the action and the field (on both stores)."""

from __future__ import annotations

from sqlalchemy import func, select

from syncd.connectors.retailcrm.actions import ACTIONS as CRM_ACTIONS
from syncd.connectors.retailcrm.actions import FixExternalId
from syncd.engine.contracts import Flow, FlowContext, Sink
from syncd.engine.pipeline import Pipeline
from syncd.engine.planning import plan_pending
from syncd.model import Command, Event, Outcome, Plan
from syncd.store import dead_letters, inbox, leases
from syncd.store.schema import outbox as outbox_table


class PlansTwo(Flow):
    """Plans one good command and, for "bad" orders, one its sink cannot execute."""

    kind = "test_plans_two"

    def plan(self, event: Event, ctx: FlowContext) -> Plan:
        commands = [
            Command.for_event(target="crm", entity="order", key=event.external_id, cause=event,
                              flow=self.name, action=FixExternalId(id=1))
        ]  # fmt: skip
        if event.payload.get("bad"):
            commands.append(
                Command.for_event(target="crm", entity="customer", key="P", cause=event,
                                  flow=self.name, action="link_or_create", seq=1,
                                  payload={"customer": {}, "match": {"phone": "+79120000000"}})
            )  # fmt: skip
        return Plan(Outcome.UPDATED, commands)


class TypedSink(Sink):
    kind = "test_typed"
    actions = CRM_ACTIONS

    def apply(self, commands):  # noqa: ANN001, ANN201
        raise AssertionError("planning only")


def test_planning_dead_letters_an_event_whose_command_is_not_its_sink_s_and_stores_none_of_it(
    store,
):
    flow = PlansTwo("orders", "erp", [], "crm", None, None)
    sink = TypedSink.__new__(TypedSink)  # planning reads its declared actions and system
    sink.system, sink.name = "crm", "crm"
    pipeline = Pipeline(flows=[flow], sinks={"crm": sink})
    with store.begin() as conn:
        inbox.add(conn, [Event("erp", "order", "good", "1", {}),
                         Event("erp", "order", "bad", "1", {"bad": True})], "s")  # fmt: skip
        lease = leases.acquire(conn, "inbox", "me", 60)
    round_ = plan_pending(store, pipeline, lease, 10)
    assert round_.events == 2
    with store.read() as conn:
        stored = conn.execute(select(outbox_table.c.object_id)).scalars().all()
        (letter,) = dead_letters.list_open(conn)
    assert stored == ["good"]  # the bad event's good command is not stored either
    assert letter.subject == "erp/order/bad@1" and "'link_or_create'" in letter.error
    assert "match.phone" in letter.error and "+79120000000" not in letter.error
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(outbox_table)).scalar_one() == 1
