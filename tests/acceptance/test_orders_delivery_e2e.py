"""An order's fulfilment end to end: 1C's assembly and delivery status reaches the CRM.

Both sandboxes over loopback, the daemon as a subprocess: the manager agrees
the order in the CRM, 1C's warehouse assembles it and its courier delivers
it (``СтатусыСборкиИДоставки``), and the CRM follows up to ``delivered``.
"""

from __future__ import annotations

import pytest

from tests.conftest import wait_until
from tests.support.daemon import log_records, start_daemon, stop
from tests.support.e2e import (
    both_sandboxes,
    crm_order,
    cycles_pass,
    e2e_env,
    erp_data_writes,
    order_config,
)
from tests.support.erp import ORDERS

pytestmark = pytest.mark.slow


def test_an_order_reaches_delivered_in_the_crm_from_1cs_delivery_status(tmp_path, db_url):
    with both_sandboxes(orders=1) as (erp, erp_url, crm, crm_url):
        env = e2e_env(erp_url, crm_url)
        config = order_config(tmp_path, db_url, erp)
        daemon = start_daemon(config, env=env)
        try:
            ref = erp.state.rows(ORDERS)[0]["Ref_Key"]
            created = wait_until(lambda: crm_order(crm, ref), what="the order in the CRM")
            crm.state.edit("order", created, {"status": "client-confirmed"}, author="user")
            wait_until(
                lambda: erp.state.get(ORDERS, (ref,))["Согласован"], what="the agreement in 1C"
            )

            for status, crm_status in (
                ("КСборке", "send-to-assembling"),
                ("Собран", "assembling-complete"),
                ("Доставляется", "delivering"),
                ("Доставлен", "delivered"),
            ):
                erp.trade.delivery_status(ref, status)
                wait_until(
                    lambda s=crm_status: crm_order(crm, ref)["status"] == s,
                    what=f"{crm_status} in the CRM after {status} in 1C",
                )

            # a late record of an earlier step: nothing moves back, nothing is written
            cycles_pass(config, env)
            erp_before, crm_before = list(erp.requests), list(crm.writes)
            erp.trade.delivery_status(ref, "Собирается")
            cycles_pass(config, env, n=3)
            assert crm_order(crm, ref)["status"] == "delivered"
            assert crm.writes == crm_before
            assert erp_data_writes(erp.requests) == erp_data_writes(erp_before)
        finally:
            stop(daemon)
    errors = [r for r in log_records(config.with_suffix(".log")) if r.get("level") == "ERROR"]
    assert errors == []
