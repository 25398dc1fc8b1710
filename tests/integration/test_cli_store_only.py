"""Commands that need only the store: they run on SYNCD_DB_URL alone, and the ones that
only read never create a store where a mistyped URL points."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from cli import main
from syncd.store import Store
from tests.support.databases import create_pg_database, drop_pg_database

READERS = [
    ["status"],
    ["status", "--json"],
    ["dead-letters", "list"],
    ["dead-letters", "show", "1"],
    ["conflicts", "list"],
    ["conflicts", "show", "1"],
    ["bindings", "show", "crm", "order", "x"],
    ["customers", "explain", "1"],
    ["timers", "list"],
]


def run(args: list[str], url: str):  # noqa: ANN201
    """The command with the store's URL in the environment and no configuration file."""
    return CliRunner().invoke(main, args, env={"SYNCD_DB_URL": url, "SYNCD_CONFIG": None})


@pytest.mark.parametrize("args", READERS, ids=lambda a: " ".join(a))
def test_a_reading_command_on_a_mistyped_sqlite_path_creates_nothing(tmp_path, args):
    missing = tmp_path / "nonexistent" / "dir" / "x.db"
    result = run(args, f"sqlite:///{missing}")
    assert result.exit_code == 2, result.output
    assert f"there is no store at {missing}" in result.output
    assert not missing.parent.exists()


def test_a_reading_command_on_an_unmigrated_store_does_not_migrate_it(tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    result = run(["status"], f"sqlite:///{empty}")
    assert result.exit_code == 2 and "not migrated" in result.output
    with sqlite3.connect(empty) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_then_status_with_only_the_store_url_in_the_environment(tmp_path, backend):
    if backend == "sqlite":
        url, name = f"sqlite:///{tmp_path / 'state' / 'syncd.db'}", None
    else:
        url, name = create_pg_database()
    try:
        assert run(["status"], url).exit_code == 2  # not there, or not migrated: not made
        upgraded = run(["db", "upgrade"], url)
        assert upgraded.exit_code == 0, upgraded.output
        assert "is at revision" in upgraded.output
        status = run(["status"], url)
        assert status.exit_code == 0, status.output
        store = Store.open(url)
        try:
            assert store.is_migrated()
        finally:
            store.dispose()
    finally:
        if name:
            drop_pg_database(name)


def test_without_a_file_or_a_store_url_the_command_says_what_to_set(tmp_path):
    result = CliRunner().invoke(main, ["status"], env={"SYNCD_DB_URL": None, "SYNCD_CONFIG": None})
    assert result.exit_code == 2 and "SYNCD_CONFIG" in result.output
