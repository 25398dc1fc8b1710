"""The unit layer: pure tests.  A test here that opens a socket, a database file or a
process fails, naming what it opened: it belongs to tests/integration or
tests/acceptance."""

from __future__ import annotations

import socket
import sqlite3
import subprocess

import pytest


class NotAUnitTest(AssertionError):
    pass


def _refuse(what: str):  # noqa: ANN202
    def refused(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise NotAUnitTest(f"a unit test opened {what}: move it to tests/integration")

    return refused


@pytest.fixture(autouse=True)
def _pure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _refuse("a socket"))
    monkeypatch.setattr(socket.socket, "bind", _refuse("a socket"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("a process"))
    connect = sqlite3.connect

    def memory_only(database, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if str(database) not in (":memory:", "") and "mode=memory" not in str(database):
            raise NotAUnitTest(f"a unit test opened the database file {database}")
        return connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", memory_only)
