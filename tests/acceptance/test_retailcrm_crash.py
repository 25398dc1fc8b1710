"""Killing the daemon between reading a CRM history page and committing it loses nothing."""

from __future__ import annotations

import json
import signal

import pytest

from syncd.store import Store
from syncd_sandbox.crm_app import SandboxCrm
from tests.support.crm import history_source
from tests.support.daemon import outputs, syncd, write_config
from tests.support.serve import serving

KEY = "sandbox-key-syncd-000"
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("point", ["source.after_poll:2", "source.after_commit:1"])
def test_sigkill_between_history_page_and_commit_loses_nothing(tmp_path, db_url, point):
    app = SandboxCrm([KEY], requests_per_second=None)
    for i in range(150):  # 150 manager-made orders: two history pages of 100
        app.state.create("order", {"firstName": f"Клиент {i}"}, "main", author="user")
    with serving(app) as url:
        config = write_config(
            tmp_path,
            db_url,
            sources=[history_source(start="2000-01-01 00:00:00")],
            engine={"lease_ttl_seconds": 1},
        )
        text = config.read_text().replace("source_system: demo", "source_system: crm")
        config.write_text(text)
        env = {"SYNCD_CRM_URL": url, "SYNCD_CRM_API_KEY": KEY, "SYNCD_CRM_SITE": "main"}

        crashed = syncd(
            "run", "--once", "--config", str(config), env={**env, "SYNCD_FAILPOINT": point}
        )
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
        finished = syncd("run", "--once", "--config", str(config), env=env)
        assert finished.returncode == 0, finished.stderr[-2000:]

    written = outputs(tmp_path / "out")
    assert len(written) == 150
    assert written["order/1"]["firstName"] == "Клиент 0"
    store = Store.open(db_url)
    with store.read() as conn:
        ids = conn.exec_driver_sql("SELECT external_id FROM inbox").scalars().all()
        cursor = conn.exec_driver_sql(
            "SELECT value FROM cursors WHERE stream = 'crm_orders'"
        ).scalar_one()
    store.dispose()
    assert sorted(ids, key=int) == [str(i) for i in range(1, 151)]  # each once
    # history ids are one sequence with the customers the account created for the orders
    assert json.loads(cursor)["since_id"] == app.state.history["order"][-1]["id"]
