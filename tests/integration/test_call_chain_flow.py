"""The no-answer call chain: three returns after three hours each, the fourth cancels."""

from __future__ import annotations

import pytest

from tests.support.robot import agreeable
from tests.support.robot_flows import RobotFlows, crm_event

HOURS_3 = 3 * 3600


@pytest.fixture
def flows(tmp_path):
    bench = RobotFlows(tmp_path)
    yield bench
    bench.close()


def order(status: str) -> dict:
    return {**agreeable(), "status": status}


def test_a_missed_call_brings_the_order_back_three_hours_later_with_a_reminder(flows):
    ref = agreeable()["externalId"]
    flows.add(crm_event(order("requires-agreement"), 900, at=1000.0))
    flows.add(crm_event(order("no-call"), 901, at=2000.0))
    (timer,) = flows.timers()
    assert timer.due_at == 2000.0 + HOURS_3 and timer.subject == f"crm/order/{ref}"
    assert flows.fire(at=2000.0 + HOURS_3 - 1) == []  # not yet
    assert flows.moves(ref) == []
    (fired,) = flows.fire(at=2000.0 + HOURS_3)
    (move,) = flows.moves(ref)
    assert move["status"] == "requires-agreement" and move["expect"] == ["no-call"]
    assert "4812A" in move["reminder"]["text"] and "1 из 3" in move["reminder"]["text"]
    assert flows.fire(at=2000.0 + 10 * HOURS_3) == []  # fired once


def test_the_fourth_missed_call_cancels_the_order(flows):
    ref = agreeable()["externalId"]
    at, history = 1000.0, 900
    for miss in range(1, 4):
        flows.add(crm_event(order("no-call"), history, at=at))
        flows.fire(at=at + HOURS_3)
        assert len(flows.moves(ref)) == miss  # back to the operators each time
        # the move's answer (the order as syncd left it) and the operator's next call
        flows.add(crm_event(order("requires-agreement"), history + 1, at=at + HOURS_3))
        at, history = at + HOURS_3 + 60, history + 2
    flows.add(crm_event(order("no-call"), history, at=at))
    moves = flows.moves(ref)
    assert [m["status"] for m in moves] == ["requires-agreement"] * 3 + ["cancel-other"]
    assert moves[-1]["expect"] == ["no-call"]
    assert flows.timers() == []  # no fourth return
    assert flows.facts("call_chain", ref)["misses"] == 4


def test_an_order_that_moves_on_cancels_its_timer(flows):
    ref = agreeable()["externalId"]
    flows.add(crm_event(order("no-call"), 901, at=1000.0))
    flows.add(crm_event(order("client-confirmed"), 902, at=1500.0))  # reached after all
    assert flows.timers() == []
    (cancelled,) = flows.timers("cancelled")
    assert "client-confirmed" in cancelled.note
    assert flows.fire(at=1000.0 + 10 * HOURS_3) == []
    assert flows.moves(ref) == []


def test_a_stale_timer_moves_nothing(flows):
    """The order left the no-answer status and came back: the first timer is not the
    order's current one (the planner cancels it; a timer fired anyway is ignored)."""
    ref = agreeable()["externalId"]
    flows.add(crm_event(order("no-call"), 901, at=1000.0))
    flows.add(crm_event(order("requires-agreement"), 902, at=1100.0))
    flows.add(crm_event(order("no-call"), 903, at=1200.0))
    assert [t.payload["miss"] for t in flows.timers()] == [2]
    flows.fire(at=1200.0 + HOURS_3)
    (move,) = flows.moves(ref)
    assert "2 из 3" in move["fields"]["statusComment"]


def test_syncds_own_move_arriving_after_a_later_change_is_not_taken(flows):
    """The order as a return left it (``<record>-set-<command>``) reaching the inbox after
    the operator's next "Недозвон" (a later history record) must not cancel its timer."""
    ref = agreeable()["externalId"]
    flows.add(crm_event(order("no-call"), 901, at=1000.0))
    flows.fire(at=1000.0 + HOURS_3)
    flows.add(crm_event(order("no-call"), 930, at=1000.0 + HOURS_3 + 60))  # missed again
    moved = crm_event(order("requires-agreement"), 920, at=1000.0 + HOURS_3)
    flows.add(type(moved)(**{**moved.__dict__, "version": "920-set-17"}))  # late in the inbox
    assert [t.payload["miss"] for t in flows.timers()] == [2]
    assert flows.facts("call_chain", ref)["status"] == "no-call"
