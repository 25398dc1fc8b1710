"""The chaos harness, short form: orders both ways through faults, hangs and kill -9s on
both sandboxes, on SQLite and PostgreSQL — nothing lost, duplicated or wrong.

The long form (2,000 orders, 25 kills, 20% faults and 2% hangs on each system, timed
against a fault-free run) is ``bench/chaos.py``; here only the outcome is asserted.
"""

from __future__ import annotations

import pytest

from syncd_sandbox.demo.chaos import ChaosPlan, run_chaos

pytestmark = pytest.mark.slow


def test_orders_through_faults_hangs_and_kills_end_right_on_both_sides(tmp_path, db_url):
    plan = ChaosPlan(
        orders=30,
        kills=3,
        faults=0.1,
        hangs=0.01,
        hang_seconds=3.0,
        rate=6.0,
        store_url=None if db_url.startswith("sqlite") else db_url,
        seed=5,
        settle_timeout=240.0,
        customers=40,
        items=20,
    )
    report = run_chaos(plan, tmp_path / "chaos")
    summary = "\n".join(report.lines())
    assert report.orders == 30 and report.kills >= 3, summary
    assert sum(report.faults.values()) > 0, summary
    assert report.lost == [] and report.duplicated == [] and report.wrong == [], summary
    assert report.converge_seconds is not None, summary
