"""The apply latency metric tells the lag a person sees, in both directions, in any account zone.

The host runs on UTC here; the sandbox CRM writes its dates in its own account
zone (Asia/Vladivostok, UTC+10).  A manager's change in the CRM and a new site
order in 1C are timed from the test (the lag as a person sees it) and compared
with what ``syncd_apply_latency_seconds`` says for the same change.  No timing
bound is asserted: only that the metric agrees with the measured lag, and
that a wrong ``crm.timezone`` shows: hours too high when it is east of the
account's zone, 0 and a warning in the log when it is west.
"""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.conftest import wait_until
from tests.support.daemon import logged, start_daemon, stop
from tests.support.e2e import both_sandboxes, crm_order, e2e_env, order_config
from tests.support.erp import ORDERS

pytestmark = pytest.mark.slow
ACCOUNT_ZONE = "Asia/Vladivostok"
AGREEMENT = 5.0  # seconds: createdAt has whole seconds, and each side is seen by polling


def latency(port: int, direction: str) -> tuple[float, int]:
    """(sum, count) of ``syncd_apply_latency_seconds`` for one direction."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    found = {}
    for part in ("sum", "count"):
        match = re.search(
            rf'^syncd_apply_latency_seconds_{part}{{direction="{direction}"}} (\S+)$', text, re.M
        )
        found[part] = float(match.group(1)) if match else 0.0
    return found["sum"], int(found["count"])


def metric_for_next_change(port: int, direction: str, change, arrived) -> tuple[float, float]:  # noqa: ANN001
    """Make ``change``; return (the lag measured here, the mean the metric gives it)."""
    before = latency(port, direction)
    started = time.time()
    change()
    wait_until(arrived, timeout=30, what=f"the change {direction}")
    measured = time.time() - started
    after = wait_until(
        lambda: (now := latency(port, direction))[1] > before[1] and now,
        what=f"the {direction} latency observed",
    )
    return measured, (after[0] - before[0]) / (after[1] - before[1])


@pytest.mark.parametrize(
    ("crm_timezone", "hours_off"),
    [(ACCOUNT_ZONE, 0), ("Asia/Kamchatka", 2), ("Europe/Moscow", None)],
    ids=["crm.timezone right", "crm.timezone 2 h east", "crm.timezone 7 h west"],
)
def test_the_latency_metric_agrees_with_the_lag_measured_in_both_directions(
    tmp_path, db_url, crm_timezone, hours_off
):
    with both_sandboxes(orders=1, crm_timezone=ACCOUNT_ZONE) as (erp, erp_url, crm, crm_url):
        config = order_config(tmp_path, db_url, erp, crm_timezone=crm_timezone)
        daemon = start_daemon(config, env=e2e_env(erp_url, crm_url))
        try:
            port = wait_until(
                lambda: (r := logged(config.with_suffix(".log"), "http listening")) and r["port"],
                what="the HTTP server",
            )
            first = erp.state.rows(ORDERS)[0]
            order = wait_until(lambda: crm_order(crm, first["Ref_Key"]), what="the initial load")

            # CRM → 1C: a manager agrees the order; timed from the CRM's history createdAt
            measured, metric = metric_for_next_change(
                port,
                "crm_to_erp",
                lambda: crm.state.edit("order", order, {"status": "client-confirmed"}, "user"),
                lambda: erp.state.get(ORDERS, (first["Ref_Key"],))["Согласован"],
            )
            if hours_off is None:  # read as if from the future: a lag of 0, and a warning
                assert metric == 0.0
                log = config.with_suffix(".log")
                warned = logged(log, "ahead of this host's clock read in crm.timezone")
                assert warned and "7.0 h ahead" in warned["msg"]
            else:  # right, or as many hours high as crm.timezone is east of the account
                assert abs(metric - hours_off * 3600 - measured) < AGREEMENT, (metric, measured)

            # 1C → CRM: a new site order; timed from when syncd read the change in 1C
            partner = first["Партнер_Key"]
            line = first["Товары"][0]
            made: dict = {}
            measured, metric = metric_for_next_change(
                port,
                "erp_to_crm",
                lambda: made.update(
                    erp.trade.new_site_order(partner, [(line["Номенклатура_Key"], 1, 100.0)])
                ),
                lambda: made and crm_order(crm, made["Ref_Key"]),
            )
            assert abs(metric - measured) < AGREEMENT, (metric, measured)
        finally:
            stop(daemon)
