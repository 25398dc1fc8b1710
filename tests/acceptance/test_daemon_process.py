"""The daemon as a process: webhooks, signals, reload, systemd notifications."""

from __future__ import annotations

import signal
import socket
import time

import pytest
import requests

from syncd.store import Store, inbox
from tests.conftest import wait_until
from tests.support.daemon import (
    change,
    log_records,
    logged,
    outputs,
    start_daemon,
    stop,
    write_config,
    write_feed,
)
from tests.support.probe import intervals

SECRET = "test-webhook-secret-123"
pytestmark = pytest.mark.slow


def port_of(log) -> int:
    record = wait_until(lambda: logged(log, "http listening"), what="the HTTP server")
    return record["port"]


def metric(port: int, name: str) -> float | None:
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.fixture
def daemon(tmp_path, db_url):
    procs = []

    def start(config, env=None):
        proc = start_daemon(config, env=env)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_webhook_without_the_secret_gets_401_and_stores_nothing(tmp_path, db_url, daemon):
    config = write_config(tmp_path, db_url)
    write_feed(tmp_path, [])
    proc = daemon(config)
    port = port_of(config.with_suffix(".log"))
    url = f"http://127.0.0.1:{port}/webhooks/feed"
    body = {"entity": "order", "id": "W1", "version": "1", "data": {"total": 5}}

    assert requests.post(url, json=body, timeout=5).status_code == 401
    wrong = requests.post(url, json=body, headers={"X-Syncd-Token": "nope"}, timeout=5)
    assert wrong.status_code == 401
    store = Store.open(db_url)
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM inbox").scalar_one() == 0

    ok = requests.post(url, json=body, headers={"X-Syncd-Token": SECRET}, timeout=5)
    assert ok.status_code == 202 and ok.json()["new"] == 1
    wait_until(lambda: outputs(tmp_path / "out").get("order/W1"), what="the pushed change")
    with store.read() as conn:
        assert inbox.count_pending(conn) == 0
    store.dispose()
    assert stop(proc) == 0


def test_sigterm_stops_cleanly_with_exit_0(tmp_path, db_url, daemon):
    config = write_config(tmp_path, db_url)
    write_feed(tmp_path, [change("order", f"O{i}", 1, total=i) for i in range(20)])
    proc = daemon(config)
    port_of(config.with_suffix(".log"))
    wait_until(lambda: len(outputs(tmp_path / "out")) == 20, what="all changes applied")
    assert stop(proc, signal.SIGTERM, timeout=30) == 0
    assert logged(config.with_suffix(".log"), "stopped")
    store = Store.open(db_url)
    with store.read() as conn:  # leases were given back for the next instance
        expires = conn.exec_driver_sql("SELECT max(expires_at) FROM leases").scalar_one()
    store.dispose()
    assert expires == 0.0


def test_sighup_keeps_the_old_config_when_the_new_one_is_broken_and_applies_a_good_one(
    tmp_path, db_url, daemon
):
    config = write_config(tmp_path, db_url)
    write_feed(tmp_path, [change("order", "O1", 1, total=1)])
    proc = daemon(config)
    port = port_of(config.with_suffix(".log"))
    assert metric(port, "syncd_config_last_reload_successful") == 1.0
    wait_until(lambda: outputs(tmp_path / "out").get("order/O1"), what="first change")

    config.write_text(config.read_text() + "\nengine_typo: {batch_size: lots}\n")
    proc.send_signal(signal.SIGHUP)
    wait_until(
        lambda: metric(port, "syncd_config_last_reload_successful") == 0.0,
        what="the reload to be refused",
    )
    assert proc.poll() is None
    write_feed(tmp_path, [change("order", "O2", 1, total=2)], append=True)
    wait_until(lambda: outputs(tmp_path / "out").get("order/O2"), what="work under the old config")

    (tmp_path / "feed2.jsonl").write_text("")
    new = write_config(
        tmp_path,
        db_url,
        sources=[
            {
                "name": "feed",
                "kind": "feed_file",
                "system": "demo",
                "interval_seconds": 0.1,
                "options": {"path": str(tmp_path / "feed.jsonl")},
            },
            {
                "name": "feed_two",
                "kind": "feed_file",
                "system": "demo",
                "interval_seconds": 0.1,
                "options": {"path": str(tmp_path / "feed2.jsonl")},
            },
        ],
    )
    assert new == config
    proc.send_signal(signal.SIGHUP)
    wait_until(
        lambda: metric(port, "syncd_config_last_reload_successful") == 1.0, what="the good reload"
    )
    with (tmp_path / "feed2.jsonl").open("a") as fh:
        fh.write('{"entity": "order", "id": "N1", "version": "1", "data": {"from": "feed_two"}}\n')
    wait_until(lambda: outputs(tmp_path / "out").get("order/N1"), what="the new source to run")
    assert stop(proc) == 0


def test_systemd_hears_ready_watchdog_reloading_and_stopping(tmp_path, db_url, daemon):
    notify_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(notify_path))
    sock.setblocking(False)
    received: list[str] = []

    def drain() -> list[str]:
        try:
            for _ in range(1000):  # what has arrived; never wait here
                received.append(sock.recv(4096).decode())
        except BlockingIOError:
            pass
        return received

    def count(line: str) -> int:
        return sum(line in message.splitlines() for message in drain())

    def position(line: str, after: int = -1) -> int | None:
        """Index of the first message holding ``line`` after message ``after``."""
        found = (i for i, m in enumerate(drain()) if i > after and line in m.splitlines())
        return next(found, None)

    def wait_for(line: str, after: int = -1) -> int:
        wait_until(lambda: position(line, after) is not None, what=line)
        return position(line, after)

    def monotonic_usec() -> int:
        return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000

    config = write_config(tmp_path, db_url)
    write_feed(tmp_path, [])
    proc = daemon(config, env={"NOTIFY_SOCKET": str(notify_path), "WATCHDOG_USEC": "400000"})
    ready = wait_for("READY=1")

    # The watchdog is fed by the turning loop: pings keep coming while it does work.
    wait_until(lambda: count("WATCHDOG=1") >= 3, what="several WATCHDOG=1")
    pings = count("WATCHDOG=1")
    write_feed(tmp_path, [change("order", "O1", 1, total=1)], append=True)
    wait_until(lambda: outputs(tmp_path / "out").get("order/O1"), what="the loop to apply a change")
    wait_until(lambda: count("WATCHDOG=1") >= pings + 3, what="WATCHDOG=1 after the work")

    before = monotonic_usec()
    proc.send_signal(signal.SIGHUP)
    reloading = wait_for("RELOADING=1", after=ready)
    after = monotonic_usec()
    fields = dict(line.split("=", 1) for line in received[reloading].splitlines())
    # Type=notify-reload wants the CLOCK_MONOTONIC time the reload began
    assert before <= int(fields["MONOTONIC_USEC"]) <= after
    ready_again = wait_for("READY=1", after=reloading)
    assert logged(config.with_suffix(".log"), "configuration reloaded")
    wait_for("WATCHDOG=1", after=ready_again)

    assert stop(proc, signal.SIGTERM) == 0
    stopping = wait_for("STOPPING=1", after=ready_again)
    assert count("STOPPING=1") == 1 and count("READY=1") == 2
    assert position("READY=1", after=stopping) is None
    sock.close()


def test_a_reload_waits_for_a_slow_read_while_the_loop_keeps_leases_and_the_watchdog(
    tmp_path, db_url, daemon
):
    """SIGHUP during a long read: the new config applies when the read ends; meanwhile
    the loop goes on (watchdog fed, leases renewed), and a stream the new config drops
    leaves no series behind to alert on."""
    notify_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(notify_path))
    sock.setblocking(False)
    received: list[tuple[float, str]] = []

    def messages() -> list[tuple[float, str]]:
        try:
            for _ in range(1000):
                received.append((time.time(), sock.recv(4096).decode()))
        except BlockingIOError:
            pass
        return received

    runs = tmp_path / "runs.txt"
    feed = {
        "name": "feed",
        "kind": "feed_file",
        "system": "demo",
        "interval_seconds": 0.1,
        "options": {"path": str(tmp_path / "feed.jsonl")},
    }
    probe = {
        "name": "probe",
        "kind": "test_probe",
        "system": "demo",
        "interval_seconds": 0.05,
        "options": {"record": str(runs), "pause_seconds": 3},  # longer than the lease TTL
    }
    settings = {"engine": {"lease_ttl_seconds": 2}, "extra": {"plugins": ["tests.support.probe"]}}
    config = write_config(tmp_path, db_url, sources=[feed, probe], **settings)
    write_feed(tmp_path, [])
    proc = daemon(config, env={"NOTIFY_SOCKET": str(notify_path), "WATCHDOG_USEC": "400000"})
    port = port_of(config.with_suffix(".log"))
    wait_until(lambda: runs.exists() and "start" in runs.read_text(), what="the slow read")
    assert metric(port, 'syncd_lease_held{stream="probe"}') == 1.0

    write_config(tmp_path, db_url, sources=[feed], **settings)
    proc.send_signal(signal.SIGHUP)
    wait_until(lambda: any("RELOADING=1" in m for _, m in messages()), what="RELOADING=1")
    reloading_at = next(t for t, m in received if "RELOADING=1" in m)
    # drain while waiting: a message's time is when it was read, so read them as they come
    wait_until(lambda: messages() and "end" in runs.read_text(), what="the slow read to end")
    read_ended = intervals(str(runs))[0][2]
    ready_at = wait_until(
        lambda: next((t for t, m in messages() if t > reloading_at and "READY=1" in m), None),
        what="READY=1 after the reload",
    )
    pings_while_waiting = [
        t for t, m in received if "WATCHDOG=1" in m and reloading_at < t < read_ended
    ]
    assert len(pings_while_waiting) >= 3  # the loop turned while the read went on
    assert ready_at >= read_ended  # the new config waited for the read in flight
    log = config.with_suffix(".log")
    took = [r for r in log_records(log) if r.get("msg", "").startswith("took lease source:probe")]
    assert len(took) == 1  # renewed through the wait, never lost and taken again

    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert 'stream="probe"' not in "\n".join(
        line for line in text.splitlines() if not line.startswith("syncd_records_total")
    )
    assert stop(proc) == 0
    sock.close()


def test_sigusr1_prints_every_threads_stack_and_the_daemon_carries_on(tmp_path, db_url, daemon):
    config = write_config(tmp_path, db_url)
    write_feed(tmp_path, [])
    proc = daemon(config)
    log = config.with_suffix(".log")
    wait_until(lambda: logged(log, "syncd started"), what="the daemon to start")
    proc.send_signal(signal.SIGUSR1)
    # the main thread's stack ends at the entry script's module level: once that is in
    # the log, the whole dump is (a dump read while the other threads ran on could stop
    # half-way through a stack, and did, with faulthandler)
    wait_until(lambda: "in <module>" in log.read_text(errors="replace"), what="the dump")
    text = log.read_text(errors="replace")
    assert "in run" in text  # the main loop
    assert text.count("Thread 0x") >= 2  # and the other threads (http, sources)
    write_feed(tmp_path, [change("order", "O1", 1, total=1)], append=True)
    wait_until(lambda: outputs(tmp_path / "out").get("order/O1"), what="work after the dump")
    assert stop(proc) == 0
