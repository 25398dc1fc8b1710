"""The systemd notify protocol against a real AF_UNIX datagram socket."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd.sdnotify import Notifier


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify.sock")
    sock.bind(path)
    sock.settimeout(2)
    yield sock, path
    sock.close()


def received(sock: socket.socket) -> list[str]:
    """Every datagram waiting on ``sock``, without blocking for more."""
    sock.setblocking(False)
    messages = []
    try:
        while True:
            messages.append(sock.recv(4096).decode())
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(2)
    return messages


def test_disabled_without_notify_socket() -> None:
    notifier = Notifier({"WATCHDOG_USEC": "1000000"})
    assert notifier.enabled is False
    assert notifier.notify("READY=1") is False
    assert notifier.watchdog() is False


def test_ready_status_stopping_datagrams(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = Notifier({"NOTIFY_SOCKET": path})
    assert notifier.enabled is True
    assert notifier.watchdog_interval is None

    notifier.ready("running as host-1")
    notifier.ready()
    notifier.status("syncing orders")
    notifier.stopping()

    assert received(sock) == [
        "READY=1\nSTATUS=running as host-1",
        "READY=1",
        "STATUS=syncing orders",
        "STOPPING=1",
    ]


def test_reloading_carries_monotonic_usec(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    Notifier({"NOTIFY_SOCKET": path}).reloading()
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000

    (message,) = received(sock)
    first, second = message.split("\n")
    assert first == "RELOADING=1"
    key, value = second.split("=")
    assert key == "MONOTONIC_USEC"
    assert before <= int(value) <= after


def test_abstract_namespace_socket() -> None:
    name = f"syncd-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).notify("READY=1", "STATUS=x") is True
        assert sock.recv(4096) == b"READY=1\nSTATUS=x"


def test_missing_socket_never_raises(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock"), "WATCHDOG_USEC": "4000000"})
    caplog.set_level("DEBUG", logger="syncd.sdnotify")
    assert notifier.notify("READY=1") is False
    notifier.ready("x")
    assert notifier.watchdog() is False
    assert "sd_notify" in caplog.text


def test_watchdog_interval_from_env(listener: tuple[socket.socket, str]) -> None:
    _, path = listener
    assert Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2500000"}).watchdog_interval == 2.5
    assert Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "0"}).watchdog_interval is None
    assert Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "soon"}).watchdog_interval is None
    own = Notifier(
        {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}
    )
    assert own.watchdog_interval == 2.0


def test_watchdog_pid_of_another_process_disables_watchdog(
    listener: tuple[socket.socket, str],
) -> None:
    sock, path = listener
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid() + 1)}
    notifier = Notifier(env)
    assert notifier.watchdog_interval is None
    assert notifier.watchdog() is False
    notifier.ready()  # plain notifications still go out
    assert received(sock) == ["READY=1"]


def test_watchdog_is_rate_limited_to_a_quarter_interval(
    listener: tuple[socket.socket, str],
) -> None:
    sock, path = listener
    clock = Clock()
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "8000000"}, clock=clock)

    assert notifier.watchdog() is True  # the first ping always goes out
    clock.now += 1.0
    assert notifier.watchdog() is False
    clock.now += 0.5
    assert notifier.watchdog() is False
    clock.now += 0.5  # 2 s = 8 s / 4 since the last ping (binary fractions: exact)
    assert notifier.watchdog() is True
    assert notifier.watchdog() is False
    clock.now += 5
    assert notifier.watchdog() is True

    assert received(sock) == ["WATCHDOG=1"] * 3


def test_failed_ping_is_retried_next_iteration(tmp_path: Path) -> None:
    path = str(tmp_path / "late.sock")
    clock = Clock()
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "8000000"}, clock=clock)
    assert notifier.watchdog() is False  # nobody listens yet
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        clock.now += 0.1
        assert notifier.watchdog() is True
        assert sock.recv(4096) == b"WATCHDOG=1"
