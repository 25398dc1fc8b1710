"""Shared fixtures: stores on both databases, daemon configs, polling helpers."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from syncd.store import Store, outbox
from tests.support.databases import PostgresUnavailable, create_pg_database, drop_pg_database

BACKENDS = ["sqlite", "postgresql"]

# pytest compiles each test module anew (rewriting its asserts) unless it may cache the
# result in __pycache__ (git-ignored); PYTHONDONTWRITEBYTECODE forbids that and made
# every run of the unit layer ~5 s slower.  The test modules are imported after this.
sys.dont_write_bytecode = False


@pytest.fixture(autouse=True)
def _statements_built_under_a_mutant() -> None:
    """Under ``make mutation`` (mutmut names the mutant in MUTANT_UNDER_TEST) the store's
    cached statements are built again in each test: a planted change in the function
    that builds one then takes effect, and each test that runs it is known to reach it."""
    if os.environ.get("MUTANT_UNDER_TEST"):
        outbox.reset_statements()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    try:
        url, name = create_pg_database()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    migrated = Store.open(url)
    migrated.upgrade()
    migrated.dispose()
    yield url
    drop_pg_database(name)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty store URL on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state' / 'syncd.db'}"
        store = Store.open(url)
        store.upgrade()
    else:
        url = request.getfixturevalue("pg_url")
        store = Store.open(url)
        store.truncate_all()
    store.dispose()
    yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.dispose()


def wait_until(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)
