"""Which layer each test belongs to, measured: ``pytest -p tests.support.layer_probe``
records per test whether it opened a socket, a database (a store fixture or an SQLite
file), a process, or the daemon as a process (``cli.py``, ``syncd``), and writes
``layer_probe.json``: none of them is a unit test; the daemon is an acceptance test."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest

_current: list[str] = [""]
_used: dict[str, set[str]] = {}


def _mark(kind: str) -> None:
    if _current[0]:
        _used.setdefault(_current[0], set()).add(kind)


_connect, _bind = socket.socket.connect, socket.socket.bind
_sqlite = sqlite3.connect
_popen_init = subprocess.Popen.__init__


def connect(self, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN201
    _mark("socket")
    return _connect(self, *a, **k)


def bind(self, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN201
    _mark("socket")
    return _bind(self, *a, **k)


def sqlite_connect(database, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN201
    if str(database) not in (":memory:", "") and "mode=memory" not in str(database):
        _mark("dbfile")
    return _sqlite(database, *a, **k)


def popen_init(self, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN201
    argv = a[0] if a else k.get("args", ())
    words = [str(w) for w in ([argv] if isinstance(argv, str | bytes) else argv)]
    daemon = any(w.endswith("cli.py") or w in ("cli", "syncd") for w in words)
    _mark("daemon" if daemon else "process")
    return _popen_init(self, *a, **k)


socket.socket.connect, socket.socket.bind = connect, bind
sqlite3.connect = sqlite_connect
subprocess.Popen.__init__ = popen_init


DB_FIXTURES = {"store", "db_url", "pg_url"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):  # noqa: ANN001, ANN201
    _current[0] = item.nodeid
    _used.setdefault(item.nodeid, set())
    if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
        _used[item.nodeid].add("database")
    yield
    _current[0] = ""


def pytest_sessionfinish(session):  # noqa: ANN001, ANN201
    Path("layer_probe.json").write_text(
        json.dumps({k: sorted(v) for k, v in _used.items()}, indent=0)
    )
