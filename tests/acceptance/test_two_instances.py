"""Two daemons on one PostgreSQL: a stream runs in one of them at a time.

The probe source (tests/support/probe.py) notes when each poll starts and
ends; the intervals of the two processes must never overlap.  When the owner
dies, the other takes its streams over as soon as the dead one's instance
lease lapses, without waiting for the stream leases' own TTL.  When the owner
is only paused past its lease, its late write is refused.
"""

from __future__ import annotations

import collections
import signal
import time

import pytest
import yaml

from syncd.store import Store, cursors, leases, outbox
from tests.conftest import wait_until
from tests.support.daemon import (
    change,
    journal,
    log_records,
    logged,
    outputs,
    start_daemon,
    stop,
    write_config,
    write_feed,
)
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


def stream_leases_of(store: Store, owner: str) -> list[str]:
    """The stream and planner leases ``owner`` holds now (its instance lease aside)."""
    now = time.time()
    with store.read() as conn:
        return sorted(
            lease.name
            for lease in leases.holders(conn)
            if lease.owner == owner and lease.expires_at > now and lease.name != f"instance:{owner}"
        )


def test_a_killed_lease_holder_hands_every_lease_over_well_within_the_lease_ttl(tmp_path, clean_pg):
    # default lease TTL (30 s): the survivor must not wait for it, the dead
    # instance's own lease (6 s) tells it that the holder is gone
    config_a = write_config(
        tmp_path, clean_pg, engine={"lease_ttl_seconds": 30, "instance_id": "holder"}
    )
    # the same feed, sink folder and store: one deployment, two hosts
    settings = yaml.safe_load(config_a.read_text(encoding="utf-8"))
    settings["engine"]["instance_id"] = "survivor"
    config_b = tmp_path / "survivor.yaml"
    config_b.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    first = [change("order", f"O{n}", 1, total=n) for n in range(1, 7)]
    then = [change("order", "O1", 2, total=100), change("order", "O7", 1, total=7)]
    write_feed(tmp_path, first)
    store = Store.open(clean_pg)
    holder = start_daemon(config_a)
    survivor = None
    try:
        wait_until(
            lambda: stream_leases_of(store, "holder") == ["inbox", "source:feed"],
            timeout=60,
            what="the first instance to hold every lease",
        )
        survivor = start_daemon(config_b)
        wait_until(
            lambda: logged(config_b.with_suffix(".log"), "syncd started"),
            timeout=60,
            what="the second instance to run",
        )
        wait_until(
            lambda: len(outputs(tmp_path / "out")) == 6 and len(journal(tmp_path / "out")) == 6,
            timeout=60,
            what="the first changes to be written",
        )
        holder.kill()
        holder.wait(10)
        killed_at = time.monotonic()
        wait_until(
            lambda: stream_leases_of(store, "survivor") == ["inbox", "source:feed"],
            timeout=20,  # generous, yet well under the 30 s the stream leases last
            what="the survivor to hold every lease",
        )
        print(f"takeover after SIGKILL: {time.monotonic() - killed_at:.2f} s (bench/takeover.py)")
        write_feed(tmp_path, then, append=True)
        expected = {f"order/O{n}": {"total": n} for n in range(2, 8)} | {"order/O1": {"total": 100}}
        wait_until(
            lambda: outputs(tmp_path / "out") == expected,
            timeout=60,
            what="the survivor to write the changes made after the kill",
        )
        writes = collections.Counter(w["command"] for w in journal(tmp_path / "out"))
        assert writes and set(writes.values()) == {1}, writes  # no command applied twice
        with store.read() as conn:
            counts = outbox.counts(conn)
        assert counts.get("dead", 0) == 0
        took = logged(config_b.with_suffix(".log"), "whose instance lease lapsed")
        assert took and "holder" in took["msg"]
        assert stop(survivor) == 0
    finally:
        store.dispose()
        for p in (holder, survivor):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait(10)
