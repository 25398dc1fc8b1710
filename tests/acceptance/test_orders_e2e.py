"""Orders end to end: both sandboxes over loopback, the daemon as a subprocess."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from syncd.store import Store
from syncd.store.schema import bindings
from tests.conftest import wait_until
from tests.support.daemon import log_records, start_daemon, stop, syncd
from tests.support.e2e import (
    both_sandboxes,
    crm_order,
    cycles_pass,
    e2e_env,
    erp_data_writes,
    erp_writes,
    order_config,
)
from tests.support.erp import ORDERS

pytestmark = pytest.mark.slow


def test_orders_travel_both_ways_and_settle_with_no_echo(tmp_path, db_url):
    with both_sandboxes() as (erp, erp_url, crm, crm_url):
        env = e2e_env(erp_url, crm_url)
        config = order_config(tmp_path, db_url, erp)
        daemon = start_daemon(config, env=env)
        try:
            order = erp.state.rows(ORDERS)[0]
            ref = order["Ref_Key"]
            # a site order in 1C appears in the CRM as "new"
            created = wait_until(lambda: crm_order(crm, ref), what="the order in the CRM")
            assert created["status"] == "new" and created["number"] == order["Number"]
            assert (
                created["items"][0]["offer"]["externalId"] == order["Товары"][0]["Номенклатура_Key"]
            )

            # its customer came along, phone in E.164, and the order points at it
            partner = erp.state.get("Catalog_Партнеры", (order["Партнер_Key"],))
            customer = wait_until(
                lambda: crm.state.find("customer", order["Партнер_Key"], "externalId", None),
                what="the customer in the CRM",
            )
            assert created["customer"]["externalId"] == order["Партнер_Key"]
            assert customer["lastName"] == partner["Description"].split()[0]
            assert customer["phones"][0]["number"].startswith("+79")

            # the manager agrees it: 1C gets the status, posted, with one PATCH and one Post
            crm.state.edit("order", created, {"status": "client-confirmed"}, author="user")
            agreed = wait_until(
                lambda: (o := erp.state.get(ORDERS, (ref,)))["Согласован"] and o,
                what="the agreed status in 1C",
            )
            assert agreed["Статус"] == "КОбеспечению" and agreed["Posted"] is True
            assert erp_writes(erp, ref) == [f"PATCH {ORDERS}(guid'{ref}')", "POST Post"]

            # the warehouse ships it: the CRM status moves along the map
            erp.trade.ship(ref)
            wait_until(
                lambda: crm_order(crm, ref)["status"] == "send-to-delivery",
                what="the shipped status in the CRM",
            )

            # settled: further cycles write nothing on either side
            cycles_pass(config, env)
            erp_before, crm_before = list(erp.requests), list(crm.writes)
            cycles_pass(config, env, n=3)
            assert erp_data_writes(erp.requests) == erp_data_writes(erp_before)
            assert crm.writes == crm_before

            # every stored change delivered again, late: nothing moves back, nothing is written
            replay = syncd("inbox", "replay", "--config", str(config), env=env)
            assert replay.returncode == 0, replay.stderr
            cycles_pass(config, env, n=3)
            assert erp_data_writes(erp.requests) == erp_data_writes(erp_before)
            assert crm.writes == crm_before
            assert crm_order(crm, ref)["status"] == "send-to-delivery"
        finally:
            stop(daemon)
    errors = [r for r in log_records(config.with_suffix(".log")) if r.get("level") == "ERROR"]
    assert errors == []
    # the order is bound on both sides by its 1C ref; the CRM's own id is no binding row
    store = Store.open(db_url)
    with store.read() as conn:
        found = set(conn.execute(select(bindings.c.system, bindings.c.external_id)).all())
    store.dispose()
    assert {("erp", ref), ("crm", ref)} <= found
    assert ("crm", str(created["id"])) not in found
