"""The unit layer stays pure: a test here that opens a socket, a database file or a
process fails (tests/unit/conftest.py), so it cannot creep in unnoticed."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys

import pytest

from tests.unit.conftest import NotAUnitTest


def test_a_socket_is_refused():
    with socket.socket() as s, pytest.raises(NotAUnitTest, match="a socket"):
        s.connect(("127.0.0.1", 9))


def test_a_database_file_is_refused_and_memory_is_not(tmp_path):
    with pytest.raises(NotAUnitTest, match="database file"):
        sqlite3.connect(tmp_path / "x.db")
    sqlite3.connect(":memory:").close()


def test_a_process_is_refused():
    with pytest.raises(NotAUnitTest, match="a process"):
        subprocess.run([sys.executable, "-c", "pass"], check=True)
