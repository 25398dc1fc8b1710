"""Two daemons on one PostgreSQL: a stream runs in one of them at a time.

The probe source (tests/support/probe.py) notes when each poll starts and
ends; the intervals of the two processes must never overlap.  When the owner
dies, the other takes the stream over after the lease expires.  When the
owner is only paused past its lease, its late write is refused.
"""

from __future__ import annotations

import signal
import time

import pytest

from syncd.store import Store, cursors
from tests.conftest import wait_until
from tests.support.daemon import log_records, logged, start_daemon, stop, write_config
from tests.support.probe import intervals

pytestmark = pytest.mark.slow


def probe_config(tmp_path, pg_url, name, pause=0.2):
    folder = tmp_path / name
    folder.mkdir()
    return write_config(
        folder,
        pg_url,
        sources=[
            {
                "name": "probe",
                "kind": "test_probe",
                "system": "demo",
                "interval_seconds": 0.05,
                "options": {"record": str(tmp_path / "runs.txt"), "pause_seconds": pause},
            }
        ],
        engine={"lease_ttl_seconds": 2},
        extra={"plugins": ["tests.support.probe"]},
    )


@pytest.fixture
def clean_pg(pg_url):
    store = Store.open(pg_url)
    store.truncate_all()
    store.dispose()
    return pg_url


def overlaps(runs, until):
    closed = [(pid, s, e if e is not None else until) for pid, s, e in runs]
    return [
        (a, b)
        for i, a in enumerate(closed)
        for b in closed[i + 1 :]
        if a[0] != b[0] and a[1] < b[2] and b[1] < a[2]
    ]


def test_a_stream_runs_in_one_instance_at_a_time_and_moves_on_when_it_dies(tmp_path, clean_pg):
    a = start_daemon(probe_config(tmp_path, clean_pg, "a"))
    b = start_daemon(probe_config(tmp_path, clean_pg, "b"))
    runs_file = tmp_path / "runs.txt"
    try:
        wait_until(
            lambda: runs_file.exists() and len(intervals(str(runs_file))) >= 10,
            timeout=60,
            what="ten polls",
        )
        owner = intervals(str(runs_file))[0][0]
        victim, survivor = (a, b) if a.pid == owner else (b, a)
        victim.kill()
        victim.wait(10)
        killed_at = time.time()
        wait_until(
            lambda: any(pid == survivor.pid for pid, _, _ in intervals(str(runs_file))),
            timeout=60,
            what="the survivor to take the stream over",
        )
        wait_until(
            lambda: sum(pid == survivor.pid for pid, _, _ in intervals(str(runs_file))) >= 3,
            timeout=60,
            what="the survivor to keep polling",
        )
        runs = intervals(str(runs_file))
        assert overlaps(runs, until=killed_at) == []
        assert {pid for pid, _, _ in runs} == {victim.pid, survivor.pid}
        assert stop(survivor) == 0
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.kill()
                p.wait(10)


def test_a_paused_owner_that_lost_its_lease_cannot_write_its_cursor(tmp_path, clean_pg):
    runs_file = tmp_path / "runs.txt"
    config_a = probe_config(tmp_path, clean_pg, "a", pause=1.0)
    a = start_daemon(config_a)
    b = None
    try:
        # A polls; pause it in the middle of a poll, past its lease
        wait_until(
            lambda: (
                runs_file.exists()
                and intervals(str(runs_file))[-1][2] is None
                and len(intervals(str(runs_file))) >= 2
            ),
            timeout=60,
            what="A inside a poll",
        )
        a.send_signal(signal.SIGSTOP)
        config_b = probe_config(tmp_path, clean_pg, "b", pause=0.05)
        b = start_daemon(config_b)
        wait_until(
            lambda: logged(config_b.with_suffix(".log"), "took lease source:probe"),
            timeout=60,
            what="B to take the lease over",
        )
        store = Store.open(clean_pg)
        a.send_signal(signal.SIGCONT)
        wait_until(
            lambda: logged(config_a.with_suffix(".log"), "lease lost"),
            timeout=60,
            what="A's late write to be refused",
        )

        def cursor_of_b():
            with store.read() as conn:
                state = cursors.get(conn, "probe")
            return state if state.epoch >= 2 else None

        state = wait_until(cursor_of_b, timeout=60, what="B to write the cursor")
        lost = logged(config_a.with_suffix(".log"), "lease lost")
        assert "no longer held" in lost["msg"]
        takeover = [
            r
            for r in log_records(config_b.with_suffix(".log"))
            if "took lease source:probe" in r.get("msg", "")
        ]
        assert takeover and state.cursor >= 1
        assert a.poll() is None  # A lives on, without the stream
        store.dispose()
        assert stop(b) == 0
        assert stop(a) == 0
    finally:
        for p in (a, b):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGCONT)
                p.kill()
                p.wait(10)
