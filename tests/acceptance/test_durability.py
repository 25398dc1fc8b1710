"""Killing the daemon (SIGKILL) between any two steps loses nothing and applies nothing twice.

The daemon kills itself at a named failpoint (``SYNCD_FAILPOINT``), then a
clean ``syncd run --once`` finishes the job; the directory sink must then hold
exactly the newest data of every object.
"""

from __future__ import annotations

import collections
import signal

import pytest

from syncd.store import Store, inbox, outbox
from tests.support.daemon import change, journal, outputs, syncd, write_config, write_feed

CHANGES = [
    change("order", "O1", 1, total=10),
    change("order", "O2", 1, total=20),
    change("customer", "C1", 1, name="Иван"),
    change("order", "O1", 2, total=11),
    change("order", "O3", 1, total=30),
    change("customer", "C2", 1, name="Мария"),
    change("order", "O4", 1, total=40),
]
EXPECTED = {
    "order/O1": {"total": 11},
    "order/O2": {"total": 20},
    "order/O3": {"total": 30},
    "order/O4": {"total": 40},
    "customer/C1": {"name": "Иван"},
    "customer/C2": {"name": "Мария"},
}

POINTS = [
    "source.after_poll",
    "source.after_commit",
    "source.after_commit:2",
    "flow.after_plan",
    "flow.after_commit",
    "sink.after_apply",
    "sink.after_commit",
]


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_sigkill_at_any_step_loses_nothing_and_applies_once(tmp_path, db_url, point):
    config = write_config(tmp_path, db_url, engine={"batch_size": 2, "lease_ttl_seconds": 1})
    write_feed(tmp_path, CHANGES)

    crashed = syncd("run", "--once", "--config", str(config), env={"SYNCD_FAILPOINT": point})
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]

    finished = syncd("run", "--once", "--config", str(config))
    assert finished.returncode == 0, finished.stderr[-2000:]

    assert outputs(tmp_path / "out") == EXPECTED
    writes = collections.Counter(w["object"] for w in journal(tmp_path / "out"))
    if point == "sink.after_apply":
        # the batch applied before the crash is applied again: same file, same data
        assert set(writes.values()) <= {1, 2}
    else:
        assert set(writes.values()) == {1}, writes

    store = Store.open(db_url)
    with store.read() as conn:
        assert inbox.count_pending(conn) == 0
        counts = outbox.counts(conn)
        rows = conn.exec_driver_sql("SELECT entity, external_id, version FROM inbox").all()
    store.dispose()
    assert counts.get("pending", 0) == counts.get("running", 0) == counts.get("dead", 0) == 0
    assert len(rows) == len(set(rows)) == len(CHANGES)
