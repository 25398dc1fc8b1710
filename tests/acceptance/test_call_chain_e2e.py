"""The no-answer call chain end to end: both sandboxes, the daemon as a process.

An order syncd brought from 1C goes to "Требует согласования" (the robot: not
paid); the operator sets "Недозвон" four times.  Each of the first three comes
back three hours later (the daemon's clock moved forward, never slept) with a
reminder task for the order's manager; the fourth cancels the order, and 1C
closes it.  The daemon is stopped with a timer pending and started after it
was due: the timer fires late, once.  Two daemons on one store fire each timer
once.
"""

from __future__ import annotations

import pytest

from tests.conftest import wait_until
from tests.support.daemon import start_daemon, stop
from tests.support.e2e import both_sandboxes, crm_order, e2e_env
from tests.support.erp import ORDERS
from tests.support.robot_e2e import ClockOffset, robot_config, status_moves_by_syncd, timer_states

pytestmark = pytest.mark.slow
THREE_HOURS = 3 * 3600
MANAGER = 2  # a manager of the sandbox account


def no_answer(crm, ref: str) -> None:  # noqa: ANN001
    """The operator could not reach the customer."""
    order = crm_order(crm, ref)
    crm.state.edit("order", order, {"status": "no-call", "managerId": MANAGER}, author="user")


def tasks_of(crm, ref: str) -> list[dict]:  # noqa: ANN001
    number = crm_order(crm, ref)["number"]
    return [t for t in crm.state.tasks.values() if (t.get("order") or {}).get("number") == number]


def back_with_operators(crm, ref: str, miss: int) -> dict:  # noqa: ANN001
    return wait_until(
        lambda: (
            (o := crm_order(crm, ref))["status"] == "requires-agreement"
            and f"Недозвон {miss} из 3" in (o.get("statusComment") or "")
            and o
        ),
        what=f"the order back with the operators after no answer {miss}",
    )


def test_three_returns_then_a_cancel_surviving_a_restart(tmp_path, db_url):
    with both_sandboxes(orders=1) as (erp, erp_url, crm, crm_url):
        clock = ClockOffset(tmp_path)
        env = {**e2e_env(erp_url, crm_url), **clock.env}
        config = robot_config(tmp_path, db_url, erp)
        ref = erp.state.rows(ORDERS)[0]["Ref_Key"]
        daemon = start_daemon(config, env=env)
        try:
            wait_until(
                lambda: (crm_order(crm, ref) or {}).get("status") == "requires-agreement",
                what="the robot to hand the unpaid order to the operators",
            )
            for miss in (1, 2, 3):
                no_answer(crm, ref)
                wait_until(
                    lambda m=miss: (
                        f"call_chain:{ref}:{m}" in timer_states(db_url).get("pending", [])
                    ),
                    what=f"the timer of no answer {miss}",
                )
                if miss == 2:  # down while the timer is pending, up after it was due
                    assert stop(daemon) == 0
                    clock.forward(THREE_HOURS + 60)
                    daemon = start_daemon(config, env=env)
                else:
                    clock.forward(THREE_HOURS + 60)
                back_with_operators(crm, ref, miss)
                wait_until(  # the reminder is made right after the move
                    lambda m=miss: len(tasks_of(crm, ref)) == m, what=f"reminder {miss}"
                )
            (task,) = tasks_of(crm, ref)[:1]
            assert task["performer"] == MANAGER and "недозвон 1 из 3" in task["text"]

            no_answer(crm, ref)  # the fourth
            wait_until(
                lambda: crm_order(crm, ref)["status"] == "cancel-other",
                what="the order cancelled at the fourth no answer",
            )
            wait_until(
                lambda: erp.state.get(ORDERS, (ref,))["Статус"] == "Закрыт",
                what="the cancellation in 1C",
            )
        finally:
            stop(daemon)
        order_id = crm_order(crm, ref)["id"]
        # the robot's hand-over, then three returns: never one twice
        assert status_moves_by_syncd(crm, order_id, "requires-agreement") == 4
        assert len(tasks_of(crm, ref)) == 3
        states = timer_states(db_url)
        assert sorted(states.get("fired", [])) == [f"call_chain:{ref}:{m}" for m in (1, 2, 3)]
        assert states.get("pending", []) == []


def test_two_instances_fire_each_timer_once(tmp_path, pg_url):
    from syncd.store import Store

    fresh = Store.open(pg_url)
    fresh.truncate_all()
    fresh.dispose()
    with both_sandboxes(orders=2) as (erp, erp_url, crm, crm_url):
        clock = ClockOffset(tmp_path)
        env = {**e2e_env(erp_url, crm_url), **clock.env}
        configs = []
        for name in ("a", "b"):
            folder = tmp_path / name
            folder.mkdir()
            configs.append(robot_config(folder, pg_url, erp))
        refs = [row["Ref_Key"] for row in erp.state.rows(ORDERS)]
        daemons = [start_daemon(c, env=env) for c in configs]
        try:
            for ref in refs:
                wait_until(
                    lambda r=ref: (crm_order(crm, r) or {}).get("status") == "requires-agreement",
                    what="the robot to hand the orders to the operators",
                )
                no_answer(crm, ref)
            wait_until(  # two daemons on one machine: give a loaded CI runner time
                lambda: len(timer_states(pg_url).get("pending", [])) == 2,
                timeout=60,
                what="both timers pending",
            )
            clock.forward(THREE_HOURS + 60)
            for ref in refs:
                back_with_operators(crm, ref, 1)
                wait_until(lambda r=ref: tasks_of(crm, r), what="the reminder")
            wait_until(
                lambda: len(timer_states(pg_url).get("fired", [])) == 2, timeout=60, what="fired"
            )
        finally:
            for daemon in daemons:
                stop(daemon)
        for ref in refs:
            order_id = crm_order(crm, ref)["id"]
            assert status_moves_by_syncd(crm, order_id, "requires-agreement") == 2
            assert len(tasks_of(crm, ref)) == 1
