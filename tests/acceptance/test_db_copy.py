"""``syncd db copy``: the store moved from SQLite to PostgreSQL (and back) whole and usable."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Float, Integer, LargeBinary, String, Table, Text, select

from syncd.identity import index
from syncd.store import Store, leases
from syncd.store.schema import metadata
from syncd.store.transfer import CopyFailed, CopyRefused, copy_store
from tests.support.daemon import change, journal, outputs, syncd, write_config, write_feed
from tests.support.databases import create_pg_database, drop_pg_database

ROWS = 2345  # three batches of 1000, the last one partial
SERIAL_TABLES = {"inbox", "outbox", "bindings", "dead_letters", "conflicts", "timers"}


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    url, name = create_pg_database()
    store = Store.open(url)
    store.upgrade()
    store.dispose()
    yield url
    drop_pg_database(name)


@pytest.fixture
def pg_target(pg_database: str) -> str:
    """The module's PostgreSQL database, migrated and emptied."""
    store = Store.open(pg_database)
    store.truncate_all()
    store.dispose()
    return pg_database


def sqlite_store(path: Path) -> str:
    url = f"sqlite:///{path}"
    store = Store.open(url)
    store.upgrade()
    store.dispose()
    return url


def value(table: Table, column, i: int):  # noqa: ANN001, ANN201
    """A value of the column's type, unique per row where a key needs it."""
    if column.primary_key and isinstance(column.type, Integer):
        return 3 * i + 7  # gaps: the sequences must follow the largest id, not the count
    if isinstance(column.type, Integer):
        return i
    if isinstance(column.type, Float):
        return None if column.nullable and i % 7 == 0 else i + 0.25
    if isinstance(column.type, Text):
        return json.dumps(
            {"n": i, "name": "Анна Ёлкина", "note": "x" * (i % 40)}, ensure_ascii=False
        )
    if isinstance(column.type, String):
        return f"{i}-ё-{table.name}-{column.name}"[: column.type.length]
    if isinstance(column.type, LargeBinary):  # a digest key (inbox_seen)
        return hashlib.blake2b(f"{table.name}-{i}".encode(), digest_size=16).digest()
    raise AssertionError(f"no sample for {table.name}.{column.name} ({column.type})")


def fill(url: str, rows: int = ROWS) -> None:
    store = Store.open(url)
    with store.begin() as conn:
        for table in metadata.sorted_tables:
            conn.execute(
                table.insert(),
                [{c.name: value(table, c, i) for c in table.columns} for i in range(rows)],
            )
    store.dispose()


def contents(url: str) -> dict[str, dict[tuple, tuple]]:
    """Every row of every table, keyed by primary key (row order differs between databases)."""
    store = Store.open(url)
    found = {}
    with store.read() as conn:
        for table in metadata.sorted_tables:
            pk = [table.columns.keys().index(c.name) for c in table.primary_key.columns]
            found[table.name] = {
                tuple(row[i] for i in pk): tuple(row) for row in conn.execute(select(table))
            }
    store.dispose()
    return found


def new_ids(url: str) -> dict[str, int]:
    """The id each serial table gives the next row written without one."""
    store = Store.open(url)
    ids = {}
    with store.begin() as conn:
        for table in metadata.sorted_tables:
            if table.name not in SERIAL_TABLES:
                continue
            row = {c.name: value(table, c, 10**6) for c in table.columns if c.name != "id"}
            ids[table.name] = conn.execute(table.insert().values(**row)).inserted_primary_key[0]
    store.dispose()
    return ids


def test_sqlite_to_postgresql_copies_every_row_and_moves_the_sequences_past_them(
    tmp_path: Path, pg_target: str
) -> None:
    source = sqlite_store(tmp_path / "syncd.db")
    fill(source)
    seen: list[tuple[str, int]] = []

    report = copy_store(
        source, pg_target, batch_size=1000, progress=lambda t, n: seen.append((t, n))
    )

    assert report.rows == {t.name: ROWS for t in metadata.sorted_tables}
    assert report.revision == Store.open(pg_target).head_revision()
    assert ("inbox", 1000) in seen and ("inbox", 2000) in seen and ("inbox", ROWS) in seen
    assert contents(pg_target) == contents(source)
    largest = 3 * (ROWS - 1) + 7
    assert {seq.split(".")[-1]: n for seq, n in report.sequences.items()} == {
        f"{table}_id_seq": largest + 1 for table in SERIAL_TABLES
    }
    assert new_ids(pg_target) == {table: largest + 1 for table in SERIAL_TABLES}


def test_postgresql_back_to_sqlite_gives_the_same_store(tmp_path: Path, pg_target: str) -> None:
    original = sqlite_store(tmp_path / "original.db")
    fill(original, rows=300)
    copy_store(original, pg_target)
    back = sqlite_store(tmp_path / "back.db")

    report = copy_store(pg_target, back, batch_size=64)

    assert report.sequences == {}
    assert contents(back) == contents(original)
    assert new_ids(back) == {table: 3 * 299 + 7 + 1 for table in SERIAL_TABLES}


def test_the_daemon_goes_on_from_the_copied_store(tmp_path: Path, pg_target: str) -> None:
    source = f"sqlite:///{tmp_path / 'state' / 'syncd.db'}"
    write_feed(tmp_path, [change("order", f"O{i}", 1, total=i) for i in range(12)])
    config = write_config(tmp_path, source, sink_options={"reject_keys": ["O11"]})
    first = syncd("run", "--once", "--config", str(config))
    assert first.returncode == 0, first.stderr[-2000:]
    assert len(outputs(tmp_path / "out")) == 11
    with Store.open(source).begin() as conn:  # a customer counter as the resolver keeps it
        assert index.allocate(conn, 5) == 1

    copied = syncd("db", "copy", "--from", source, "--to", pg_target, "--batch-size", "5")
    assert copied.returncode == 0, copied.stderr
    assert "row counts verified" in copied.stdout

    # The PostgreSQL store carries on: the cursor skips what was read, bindings turn
    # a new version into an update, the dead letter is still open, ids continue.
    write_config(tmp_path, pg_target, sink_options={"reject_keys": ["O11"]})
    write_feed(tmp_path, [change("order", "O1", 2, total=100), change("order", "N1", 1)], True)
    second = syncd("run", "--once", "--config", str(config))
    assert second.returncode == 0, second.stderr[-2000:]
    assert outputs(tmp_path / "out")["order/O1"] == {"total": 100}
    assert outputs(tmp_path / "out")["order/N1"] == {}
    writes = [w["object"] for w in journal(tmp_path / "out")]
    assert len(writes) == 13 and sorted(writes[-2:]) == ["out/order/N1", "out/order/O1"]
    listed = syncd("dead-letters", "list", "--config", str(config))
    assert "O11" in listed.stdout
    store = Store.open(pg_target)
    with store.begin() as conn:
        ids = [r.id for r in conn.execute(select(metadata.tables["inbox"]).order_by("id"))]
        assert ids == list(range(1, 15))
        assert index.allocate(conn, 1) == 6
    store.dispose()


def test_refuses_a_target_that_is_not_empty(tmp_path: Path, pg_target: str) -> None:
    source = sqlite_store(tmp_path / "syncd.db")
    fill(source, rows=3)
    copy_store(source, pg_target)
    with pytest.raises(CopyRefused, match=r"not empty \(rows in bindings, conflicts"):
        copy_store(source, pg_target)


def test_refuses_a_target_not_migrated_to_the_same_revision(tmp_path: Path) -> None:
    source = sqlite_store(tmp_path / "syncd.db")
    url, name = create_pg_database()
    try:
        with pytest.raises(CopyRefused, match="no revision \\(not migrated\\).*syncd db upgrade"):
            copy_store(source, url)
        older = Store.open(url)
        older.upgrade("0002")
        older.dispose()
        with pytest.raises(CopyRefused, match="at revision 0002, the source at"):
            copy_store(source, url)
    finally:
        drop_pg_database(name)


def test_refuses_a_source_behind_this_version(tmp_path: Path, pg_target: str) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Store.open(url)
    old.upgrade("0002")
    old.dispose()
    with pytest.raises(CopyRefused, match="source is at schema revision 0002"):
        copy_store(url, pg_target)


def test_refuses_while_syncd_holds_a_lease_on_the_source(tmp_path: Path, pg_target: str) -> None:
    source = sqlite_store(tmp_path / "syncd.db")
    store = Store.open(source)
    with store.begin() as conn:
        leases.acquire(conn, "inbox", "host-1:4242:abc", ttl=30)
    store.dispose()
    with pytest.raises(CopyRefused, match=r"running on the source: .*inbox by host-1:4242:abc"):
        copy_store(source, pg_target)
    # a clean stop leaves the leases expired: then the copy goes ahead
    copy_store(source, pg_target, now=time.time() + 31)


def test_refuses_a_missing_sqlite_file_without_creating_it(tmp_path: Path, pg_target: str) -> None:
    missing = tmp_path / "nowhere" / "syncd.db"
    with pytest.raises(CopyRefused, match="does not exist"):
        copy_store(f"sqlite:///{missing}", pg_target)
    assert not missing.parent.exists()
    with pytest.raises(CopyRefused, match="same database"):
        copy_store(pg_target, pg_target)


def test_a_row_the_target_cannot_hold_rolls_the_whole_copy_back(
    tmp_path: Path, pg_target: str
) -> None:
    source = sqlite_store(tmp_path / "syncd.db")
    fill(source, rows=50)
    store = Store.open(source)
    with store.begin() as conn:  # SQLite does not enforce VARCHAR lengths; PostgreSQL does
        conn.exec_driver_sql("UPDATE outbox SET state = 'much-too-long-for-sixteen' WHERE id = 10")
    store.dispose()
    with pytest.raises(CopyFailed, match=r"table outbox, rows 1\.\.50: value too long"):
        copy_store(source, pg_target)
    assert all(rows == {} for rows in contents(pg_target).values())


def test_passwords_in_the_urls_never_appear_in_the_output(tmp_path: Path, pg_target: str) -> None:
    source = sqlite_store(tmp_path / "syncd.db")
    fill(source, rows=2)
    password = "Pa55-w0rd!secret"
    # trust authentication on the test server: any password is accepted
    target = pg_target.replace("postgres@", f"postgres:{password}@", 1)
    assert password in target
    config = write_config(tmp_path, "sqlite:///elsewhere.db")

    # --to left out: the configured store, here SYNCD_DB_URL as the environment file gives it
    done = syncd("db", "copy", "-c", str(config), "--from", source, env={"SYNCD_DB_URL": target})
    assert done.returncode == 0, done.stderr
    assert "-> postgresql+psycopg://postgres:***@" in done.stdout

    again = syncd("db", "copy", "--from", source, "--to", target)  # refused: not empty
    nowhere = syncd(
        "db", "copy", "--from", source, "--to", f"postgresql://u:{password}@127.0.0.1:1/x"
    )
    for result in (done, again, nowhere):
        assert password not in result.stdout + result.stderr
    assert again.returncode == 1 and "refused: the target" in again.stderr
    assert nowhere.returncode == 1 and "copy failed, nothing was kept" in nowhere.stderr


def test_one_side_must_be_given() -> None:
    neither = syncd("db", "copy")
    assert neither.returncode == 2 and "give --from, --to or both" in neither.stderr
