"""move_status against the sandbox CRM: a status moved only while nobody moved it first,
the reminder task made once, the order as moved handed back to the flows; and the order
syncd created coming back once, as order_created, for the robot."""

from __future__ import annotations

import pytest

from syncd.config import load_settings
from syncd.engine.contracts import PartContext
from syncd.engine.pipeline import build_pipeline
from syncd.metrics import Metrics
from syncd.model import Command
from syncd_sandbox.crm_app import SandboxCrm
from tests.support.crm import history_source
from tests.support.daemon import write_config
from tests.support.serve import serving

KEY = "sandbox-key-syncd-000"
MOVE = {
    "status": "requires-agreement",
    "expect": ["no-call"],
    "fields": {"statusComment": "Недозвон 1 из 3: позвоните снова"},
    "reminder": {"text": "Перезвоните клиенту"},
    "why": "call chain",
    "step": "no answer 1: return",
}


@pytest.fixture
def crm(tmp_path):
    app = SandboxCrm([KEY], requests_per_second=None)
    with serving(app) as url:
        config = write_config(
            tmp_path,
            f"sqlite:///{tmp_path}/s.db",
            sources=[history_source(start="2000-01-01 00:00:00", own_created_as="order_created")],
            extra={
                "sinks": {
                    "out": {"kind": "directory", "system": "files", "options": {"path": "."}},
                    "crm": {"kind": "retailcrm", "system": "crm"},
                }
            },
        )
        settings = load_settings(config, {"SYNCD_CRM_URL": url, "SYNCD_CRM_API_KEY": KEY})
        pipeline = build_pipeline(settings, PartContext(settings, Metrics()))
        yield app, pipeline.sources["crm_orders"], pipeline.sinks["crm"]
        pipeline.close()


def an_order(app, sink, status: str = "no-call") -> dict:  # noqa: ANN001
    sink.apply(
        [Command("crm", "order", "ERP-1", "upsert", {"status": "new", "managerId": 3}, "k1", id=1)]
    )
    order = app.state.find("order", "ERP-1", "externalId", None)
    app.state.edit("order", order, {"status": status}, author="user")
    return order


def move(n: int, payload: dict | None = None, progress: dict | None = None) -> Command:
    return Command(
        "crm", "order", "ERP-1", "move_status", payload or MOVE, f"m{n}", id=n, attempts=1,
        progress=progress,
    )  # fmt: skip


def test_a_status_moves_with_its_fields_and_one_task_and_comes_back_as_an_event(crm):
    app, _, sink = crm
    order = an_order(app, sink)
    (result,) = sink.apply([move(10)])
    assert result.ok and result.event is not None
    now = app.state.find("order", "ERP-1", "externalId", None)
    assert now["status"] == "requires-agreement"
    assert now["statusComment"] == MOVE["fields"]["statusComment"]
    record, _, command = result.event.version.partition("-set-")
    (own,) = [
        r["id"]
        for r in app.state.history["order"]
        if r["field"] == "status" and r["newValue"] == {"code": "requires-agreement"}
    ]
    assert command == "10" and int(record) == own  # the move's own status record
    assert result.event.payload["status"] == now["status"]
    assert result.event.external_id == str(order["id"])
    (task,) = sink.client.find_tasks(order_number=now["number"], performer_id=3)
    assert task["text"] == "Перезвоните клиенту"


def test_a_person_who_moved_the_order_first_wins(crm):
    app, _, sink = crm
    an_order(app, sink, status="client-confirmed")  # the customer called back
    (result,) = sink.apply([move(10)])
    assert not result.ok and result.superseded
    assert "client-confirmed" in result.error
    assert result.event is None  # the person's change comes through the history
    assert app.state.find("order", "ERP-1", "externalId", None)["status"] == "client-confirmed"
    assert list(sink.client.tasks()) == []


def test_a_retry_after_the_move_makes_no_second_move_and_no_second_task(crm):
    app, _, sink = crm
    an_order(app, sink)
    sink.apply([move(10)])
    number = app.state.find("order", "ERP-1", "externalId", None)["number"]
    writes = len(app.writes)
    # the same command again, as after a crash before its result was stored: the task was
    # asked, its answer lost
    asked = {"moved": True, "manager_id": 3, "number": number, "reminding": True}
    (result,) = sink.apply([move(10, progress=asked)])
    assert result.ok
    assert len(sink.client.find_tasks(order_number=number, performer_id=3)) == 1
    assert app.writes[writes:] == []  # neither an edit nor a task


def test_an_earlier_attempt_that_landed_counts_as_the_move(crm):
    app, _, sink = crm
    an_order(app, sink)
    plain = {k: v for k, v in MOVE.items() if k != "reminder"}
    sink.apply([move(10, plain)])
    writes = len(app.writes)
    (again,) = sink.apply([move(11, plain)])  # the order carries status and fields already
    assert again.ok and len(app.writes) == writes


def test_orders_syncd_created_come_back_once_as_order_created(crm):
    app, source, sink = crm
    sink.apply([Command("crm", "order", "ERP-1", "upsert", {"status": "new"}, "k1", id=1)])
    sink.apply([Command("crm", "order", "ERP-1", "edit", {"status": "assembling"}, "k2", id=2)])
    events = [e for b in source.poll(None) for e in b.events]
    (created,) = events
    assert created.entity == "order_created" and created.payload["externalId"] == "ERP-1"
    assert created.payload["status"] == "assembling"  # the order as the CRM holds it now


def test_a_refused_task_leaves_the_move_done_and_says_why(crm, caplog):
    app, _, sink = crm
    order = an_order(app, sink)
    app.state.edit("order", order, {"managerId": 99}, author="user")  # no such user
    (result,) = sink.apply([move(10)])
    assert result.ok
    assert app.state.find("order", "ERP-1", "externalId", None)["status"] == "requires-agreement"
    assert "reminder task was refused" in caplog.text


def test_robot_decisions_are_counted_when_made_or_overtaken(crm):
    app, _, sink = crm
    an_order(app, sink, status="new")
    robot = {"outcome": "needs_agreement", "failed": ["paid", "in_stock"], "created_at": 1.0}
    decision = {"status": "requires-agreement", "expect": ["new"], "robot": robot}
    sink.apply([move(10, decision)])
    agree = {**decision, "status": "client-confirmed", "robot": {**robot, "outcome": "agree"}}
    sink.apply([move(11, agree)])  # the order is not in "new" any more: overtaken
    registry = sink.metrics.registry

    def value(name: str, **labels: str) -> float:
        return registry.get_sample_value(name, labels) or 0.0

    assert value("syncd_robot_decisions_total", outcome="needs_agreement") == 1
    assert value("syncd_robot_decisions_total", outcome="overtaken") == 1
    assert value("syncd_robot_failed_conditions_total", condition="paid") == 1
    assert value("syncd_robot_decision_seconds_count") == 1
