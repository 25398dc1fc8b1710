"""A "Согласован" from the CRM always reaches the warehouse: the daemon killed (SIGKILL)
between the outside calls of the 1C write — after the PATCH, after the Post — or 1C
refusing Post for longer than every retry, and the agreement still ends posted in 1C.

Before: the retry found the DataVersion of syncd's own PATCH, took it for someone
else's change and closed the command as superseded; re-planning from 1C's
``КОбеспечению`` (posted from before) counted the order as agreed, so Post was never
called: ``Согласован`` stayed false, with no dead letter and no conflict.
"""

from __future__ import annotations

import signal

import pytest

from syncd.store import Store, outbox
from tests.conftest import wait_until
from tests.support.daemon import start_daemon, stop
from tests.support.e2e import both_sandboxes, crm_order, e2e_env, order_config
from tests.support.erp import ORDERS

pytestmark = pytest.mark.slow


def agree_in_the_crm(crm, ref: str) -> None:  # noqa: ANN001
    created = wait_until(lambda: crm_order(crm, ref), what="the order in the CRM")
    crm.state.edit("order", created, {"status": "client-confirmed"}, author="user")


def agreed_in_1c(erp, ref: str):  # noqa: ANN001, ANN201
    order = erp.state.get(ORDERS, (ref,))
    return order["Согласован"] and order["Posted"] and order


def settled(db_url: str) -> dict:
    store = Store.open(db_url)
    try:
        with store.read() as conn:
            counts = outbox.counts(conn)
            dead = conn.exec_driver_sql("SELECT count(*) FROM dead_letters").scalar_one()
            superseded = conn.exec_driver_sql(
                "SELECT count(*) FROM outbox WHERE state = 'superseded' AND target = 'erp'"
            ).scalar_one()
    finally:
        store.dispose()
    return {
        "unfinished": sum(counts.get(s, 0) for s in outbox.BLOCKING),
        "dead": dead,
        "superseded": superseded,
    }


@pytest.mark.parametrize("point", ["erp.after_patch", "erp.after_post"])
def test_a_kill_inside_the_1c_write_still_posts_the_agreement(tmp_path, db_url, point):
    with both_sandboxes(orders=2) as (erp, erp_url, crm, crm_url):
        env = e2e_env(erp_url, crm_url)
        config = order_config(tmp_path, db_url, erp)
        ref = erp.state.rows(ORDERS)[0]["Ref_Key"]
        doomed = start_daemon(config, env={**env, "SYNCD_FAILPOINT": point})
        agree_in_the_crm(crm, ref)
        assert doomed.wait(timeout=60) == -signal.SIGKILL  # died between two 1C calls
        half = dict(erp.state.get(ORDERS, (ref,)))
        daemon = start_daemon(config, env=env)
        try:
            agreed = wait_until(lambda: agreed_in_1c(erp, ref), what="the agreement in 1C")
            wait_until(lambda: settled(db_url)["unfinished"] == 0, what="the outbox to drain")
        finally:
            assert stop(daemon) == 0
    assert half["Статус"] == "КОбеспечению"  # the PATCH had gone in before the kill
    assert (
        agreed["Статус"] == "КОбеспечению" and crm_order(crm, ref)["status"] == "client-confirmed"
    )
    assert settled(db_url) == {"unfinished": 0, "dead": 0, "superseded": 0}


def test_1c_refusing_post_for_a_while_delays_the_agreement_but_never_loses_it(tmp_path, db_url):
    with both_sandboxes(orders=2) as (erp, erp_url, crm, crm_url):
        env = e2e_env(erp_url, crm_url)
        config = order_config(tmp_path, db_url, erp)
        ref = erp.state.rows(ORDERS)[0]["Ref_Key"]
        erp.unavailable_posts = 6  # one command attempt's own 5 retries, and one more
        daemon = start_daemon(config, env=env)
        try:
            agree_in_the_crm(crm, ref)
            wait_until(
                lambda: erp.unavailable_posts == 0, timeout=90, what="1C to refuse every Post"
            )
            agreed = wait_until(
                lambda: agreed_in_1c(erp, ref), timeout=60, what="the agreement in 1C"
            )
            wait_until(lambda: settled(db_url)["unfinished"] == 0, what="the outbox to drain")
        finally:
            assert stop(daemon) == 0
    assert agreed["Статус"] == "КОбеспечению"
    assert settled(db_url) == {"unfinished": 0, "dead": 0, "superseded": 0}
