"""Both sides change in one cycle: the owner rule decides, or a conflict waits for an operator."""

from __future__ import annotations

import pytest

from tests.conftest import wait_until
from tests.support.daemon import start_daemon, stop, syncd
from tests.support.e2e import both_sandboxes, crm_order, e2e_env, order_config, status
from tests.support.erp import ORDERS

pytestmark = pytest.mark.slow


def test_same_cycle_changes_follow_the_owner_or_wait_in_conflicts(tmp_path, db_url):
    with both_sandboxes(orders=2) as (erp, erp_url, crm, crm_url):
        env = e2e_env(erp_url, crm_url)
        config = order_config(tmp_path, db_url, erp)
        first, second = (o["Ref_Key"] for o in erp.state.rows(ORDERS)[:2])
        daemon = start_daemon(config, env=env)
        try:
            wait_until(lambda: crm_order(crm, first) and crm_order(crm, second), what="orders")
            crm.state.edit("order", crm_order(crm, second), {"status": "client-confirmed"}, "user")
            wait_until(lambda: erp.state.get(ORDERS, (second,))["Согласован"], what="agreed")
        finally:
            stop(daemon)

        # while syncd is down, both sides change the same things
        erp.trade.manager_edit(first, {"Комментарий": "из 1С"})
        crm.state.edit("order", crm_order(crm, first), {"managerComment": "из CRM"}, "user")
        erp.trade.ship(second)  # the warehouse ships it...
        crm.state.edit("order", crm_order(crm, second), {"status": "cancel-other"}, "user")  # ...

        daemon = start_daemon(config, env=env)
        try:
            # the comment belongs to the CRM (orders.yaml: owner crm): 1C gets the CRM's
            wait_until(
                lambda: erp.state.get(ORDERS, (first,))["Комментарий"] == "из CRM",
                what="the CRM's comment in 1C",
            )
            assert crm_order(crm, first)["managerComment"] == "из CRM"
            # cancelled in the CRM while shipped in 1C: no rule decides, an operator does
            report = wait_until(
                lambda: (s := status(config, env))["conflicts"] and s, what="a conflict"
            )
            assert report["conflicts"] == 1
            assert crm_order(crm, second)["status"] == "cancel-other"
            assert not any(line["Отменено"] for line in erp.state.get(ORDERS, (second,))["Товары"])
            listed = syncd("conflicts", "list", "--config", str(config), env=env)
            conflict_id = listed.stdout.split("\t", 1)[0]
            assert second in listed.stdout and "cancelled" in listed.stdout
            done = syncd(
                "conflicts",
                "resolve",
                conflict_id,
                "--take",
                "erp",
                "--config",
                str(config),
                env=env,
            )
            assert done.returncode == 0, done.stderr
            wait_until(
                lambda: crm_order(crm, second)["status"] == "send-to-delivery",
                what="1C's state taken into the CRM",
            )
        finally:
            stop(daemon)
