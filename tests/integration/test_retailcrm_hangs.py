"""Hangs hold only their own objects, and a write that lands late is never sent over a newer change.

The sandbox CRM holds chosen requests (a fault schedule, not a random draw)
until the test lets them go, then does their work late — after the client
gave up, as an overloaded account does.  The client waits 1 s per call here;
nothing is asserted about time: outcomes, what the CRM holds, and how many
writes reached it.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import responses

from syncd.engine.applying import ApplyRound, apply_claims, claim_for
from syncd.engine.contracts import Sink
from syncd.engine.retry import RetryPolicy
from syncd.model import Command, Event
from syncd.store import Store, inbox, outbox
from syncd.store.schema import outbox as outbox_table
from syncd_sandbox.crm_app import SandboxCrm
from tests.conftest import wait_until
from tests.support.daemon import parts_of
from tests.support.paths import ROOT
from tests.support.serve import serving

KEY = "hang-test-key-00000000000"
QUICK = {"connect_seconds": 2, "read_seconds": 1, "write_seconds": 1, "upload_seconds": 1}
SOON = RetryPolicy(max_attempts=8, initial=0.01, maximum=0.01, jitter=0)


@pytest.fixture
def crm():
    app = SandboxCrm([KEY], requests_per_second=None)
    with serving(app, threads=16) as url:
        yield app, url
        app.faults.release_all()


def crm_sink(tmp_path: Path, url: str, **options) -> Sink:
    extra = {
        "flows": [],
        "crm": {"timeouts": QUICK},
        "sinks": {
            "crm": {
                "kind": "retailcrm",
                "system": "crm",
                "options": {"requests_per_second": 1000, **options},
            }
        },
    }
    env = {"SYNCD_CRM_URL": url, "SYNCD_CRM_API_KEY": KEY, "SYNCD_CRM_SITE": "main"}
    return parts_of(tmp_path, extra=extra, env=env).sinks["crm"]


def queued(tmp_path: Path, commands: list[Command]) -> Store:
    store = Store.open(f"sqlite:///{tmp_path}/hangs.db")
    store.upgrade()
    with store.begin() as conn:
        outbox.enqueue(conn, commands)
    return store


def apply_due(store: Store, sink: Sink) -> ApplyRound:
    """One round of the sink over the commands due (waiting for a retry's backoff)."""
    claims = wait_until(lambda: claim_for(store, sink, "test", 60), what="commands due")
    return apply_claims(store, sink, claims, SOON)


def edit(n: int, key: str, **changes) -> Command:
    return Command("crm", "order", key, "edit", changes, f"edit:{key}:{n}")


def upsert(n: int, key: str, **order) -> Command:
    return Command("crm", "order", key, "upsert", order, f"upsert:{key}:{n}")


def sent(app: SandboxCrm, path: str) -> int:
    return app.writes.count("/api/v5/" + path)


def states(store: Store) -> dict[str, str]:
    with store.read() as conn:
        rows = conn.execute(outbox_table.select()).all()
    return {row.object_id: row.state for row in rows}


def test_hung_edits_hold_only_their_own_orders_and_are_never_sent_twice(tmp_path, crm):
    app, url = crm
    for n in range(8):
        app.state.create("order", {"externalId": f"E{n}", "status": "new"}, "main", KEY)
    hold = app.faults.hold("POST", r"/orders/E[123]/edit$", times=3)
    store = queued(tmp_path, [edit(n, f"E{n}", status="assembling") for n in range(8)])
    sink = crm_sink(tmp_path, url)

    first = apply_due(store, sink)
    assert (first.applied, first.retried, first.dead) == (5, 3, 0)
    assert hold.most_waiting == 3  # the three hung calls were waited on side by side
    assert [sent(app, f"orders/E{n}/edit") for n in range(8)] == [1] * 8  # none sent twice

    hold.release()  # the CRM gets to them late, after syncd gave up
    wait_until(lambda: hold.done == 3, what="the late edits to land")
    second = apply_due(store, sink)
    assert second.applied == 3  # re-read: they are there, so they count as applied
    assert [sent(app, f"orders/E{n}/edit") for n in range(8)] == [1] * 8
    assert {o["status"] for o in app.state.records["order"].values()} == {"assembling"}
    assert set(states(store).values()) == {"done"}


def test_an_edit_that_lands_late_never_overwrites_a_newer_manager_change(tmp_path, crm):
    app, url = crm
    order = app.state.create("order", {"externalId": "A-1", "status": "new"}, "main", KEY)
    hold = app.faults.hold("POST", r"/orders/A-1/edit$")
    store = queued(tmp_path, [edit(1, "A-1", status="assembling")])
    sink = crm_sink(tmp_path, url)

    assert apply_due(store, sink).retried == 1  # no answer: back to pending with backoff
    hold.release()
    wait_until(lambda: order["status"] == "assembling", what="the late edit to land")
    app.state.edit("order", order, {"status": "client-confirmed"}, author="user")  # a manager

    retry = apply_due(store, sink)
    assert retry.superseded == 1 and retry.applied == 0
    assert order["status"] == "client-confirmed"  # the newer change survives
    assert sent(app, "orders/A-1/edit") == 1  # never sent again
    assert states(store) == {"A-1": "superseded"}
    with store.read() as conn:  # the order as it is now goes back through the flows
        (event,) = inbox.pending(conn, 10)
    assert (event.system, event.entity, event.external_id) == ("crm", "order", str(order["id"]))
    assert event.payload["status"] == "client-confirmed"
    newest = app.state.history["order"][-1]["id"]
    assert event.version == f"{newest}-reread-1"  # a version of its own: never a duplicate


def test_a_late_edit_the_crm_applied_over_a_manager_change_is_counted_and_reported(
    tmp_path, crm, caplog
):
    app, url = crm
    order = app.state.create("order", {"externalId": "L-1", "status": "new"}, "main", KEY)
    hold = app.faults.hold("POST", r"/orders/L-1/edit$")
    store = queued(tmp_path, [edit(1, "L-1", status="assembling")])
    sink = crm_sink(tmp_path, url)

    assert apply_due(store, sink).retried == 1
    app.state.edit("order", order, {"status": "client-confirmed"}, author="user")
    hold.release()  # lands after the manager's change: the CRM puts it over it
    wait_until(lambda: hold.done == 1, what="the late edit")

    assert apply_due(store, sink).applied == 1  # the CRM has syncd's values: not sent again
    assert sent(app, "orders/L-1/edit") == 1
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("landed in the CRM late, after a change by user" in m for m in warned)


def test_an_upload_that_lands_late_is_neither_duplicated_nor_written_over_a_manager(tmp_path, crm):
    app, url = crm
    hold = app.faults.hold("POST", r"/orders/upload$")
    store = queued(tmp_path, [upsert(1, "U-1", status="new", firstName="Анна")])
    sink = crm_sink(tmp_path, url)

    assert apply_due(store, sink).retried == 1
    hold.release()
    order = wait_until(
        lambda: app.state.find("order", "U-1", "externalId", "main"), what="the late upload"
    )
    app.state.edit("order", order, {"status": "client-confirmed"}, author="user")

    retry = apply_due(store, sink)
    assert retry.superseded == 1
    assert len(app.state.records["order"]) == 1  # no duplicate
    assert order["status"] == "client-confirmed"
    assert sent(app, "orders/upload") == 1 and sent(app, f"orders/{order['id']}/edit") == 0


def test_a_write_that_never_landed_is_sent_again_once_re_read(tmp_path, crm):
    app, url = crm
    order = app.state.create("order", {"externalId": "D-1", "status": "new"}, "main", KEY)
    app.state.edit("order", order, {"managerComment": "позвонить"}, author="user")
    app.state.history["order"][-1]["createdAt"] = "2020-01-01 10:00:00"  # old news, known
    hold = app.faults.hold("POST", r"/orders/D-1/edit$", then="drop")
    planned = edit(1, "D-1", status="assembling")
    store = queued(tmp_path, [planned])
    sink = crm_sink(tmp_path, url)

    assert apply_due(store, sink).retried == 1
    hold.release()
    wait_until(lambda: hold.done == 1, what="the dropped edit")
    assert order["status"] == "new"  # it never landed

    assert apply_due(store, sink).applied == 1  # nobody changed it since: safe to send
    assert order["status"] == "assembling" and sent(app, "orders/D-1/edit") == 2


def test_a_customer_edit_that_lands_late_counts_applied_without_a_second_write(tmp_path, crm):
    app, url = crm
    app.state.create("customer", {"externalId": "p-1", "firstName": "Анна"}, "main", KEY)
    hold = app.faults.hold("POST", r"/customers/p-1/edit$")
    payload = {"customer": {"externalId": "p-1", "lastName": "Иванова"}, "match": {}}
    link = Command("crm", "customer", "p-1", "link_or_create", payload, "link:p-1")
    store = queued(tmp_path, [link])
    sink = crm_sink(tmp_path, url)

    assert apply_due(store, sink).retried == 1
    hold.release()
    wait_until(lambda: hold.done == 1, what="the late edit")
    assert apply_due(store, sink).applied == 1
    assert sent(app, "customers/p-1/edit") == 1


class SteppedClock:
    """The sink round's clock: each CRM call takes ``step`` seconds of it."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 1000.0, step

    def __call__(self) -> float:
        return self.now

    def call(self, request) -> tuple[int, dict, str]:  # noqa: ANN001
        self.now += self.step
        return 200, {}, '{"success": true, "id": 1}'


@responses.activate
def test_a_round_starts_no_call_after_its_deadline_and_hands_the_rest_back_untried(tmp_path):
    url = "https://shop.retailcrm.test"
    clock = SteppedClock(step=20)
    responses.add_callback(responses.POST, re.compile(rf"{url}/api/v5/orders/.+/edit"), clock.call)
    sink = crm_sink(tmp_path, url, round_deadline_seconds=30, concurrency=1)
    sink.clock = clock
    store = queued(tmp_path, [edit(n, f"T{n}", status="assembling") for n in range(10)])

    round_ = apply_due(store, sink)
    assert (round_.applied, round_.deferred, round_.retried) == (2, 8, 0)
    assert len(responses.calls) == 2  # at 0 s and 20 s; none from 40 s on
    with store.read() as conn:
        rows = conn.execute(outbox_table.select().order_by(outbox_table.c.id)).all()
    untried = [row for row in rows if row.state == "pending"]
    assert len(untried) == 8
    assert all(row.attempts == 0 and row.next_attempt_at <= time.time() for row in untried)
    assert all(row.last_error is None for row in untried)  # nothing failed


class RememberedOrder:
    """A flow's read-only view holding one order's facts, nothing else."""

    def __init__(self, facts: dict) -> None:
        self.remembered = facts

    def facts(self, *ref: str) -> dict:
        return self.remembered

    def binding(self, *ref: str) -> None:
        return None

    def pending(self, *ref: str) -> None:
        return None


def test_the_order_the_crm_sink_re_read_is_decided_again_by_the_order_flow(tmp_path):
    flows = [
        {
            "name": "orders_from_crm",
            "kind": "order_sync",
            "source_system": "crm",
            "entities": ["order"],
            "target": "erp",
            "options": {"crm_sink": "crm", "erp_sink": "erp"},
        }
    ]
    sinks = {
        name: {"kind": "directory", "system": name, "options": {"path": str(tmp_path / name)}}
        for name in ("crm", "erp")
    }
    mappings = str(ROOT / "mappings")
    extra = {"mappings_dir": mappings, "flows": flows, "sinks": sinks}
    (flow,) = parts_of(tmp_path, extra=extra).flows
    known = {"status": "send-to-delivery", "stage": "shipped", "history_id": 812, "event": 5}
    facts = {
        "created": True,
        "base": {"stage": "shipped", "fields": {}},
        "erp": {"version": "AAAAAAAAAAE=", "stage": "shipped", "fields": {}},
        "crm": {**known, "fields": {}},
    }
    # the manager's change (history id 812, already seen) as the sink re-read it
    current = {"id": 77, "externalId": "ref-1", "status": "delivered", "items": []}
    event = Event("crm", "order", "77", "812-reread-9", current, id=6)

    plan = flow.plan(event, RememberedOrder(facts))
    assert "older than" not in plan.note
    decided = plan.remember[("erp", "order", "ref-1")]
    assert decided["crm"]["status"] == "delivered" and decided["base"]["stage"] == "delivered"
