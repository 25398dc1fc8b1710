"""Space comes back: SQLite files in incremental auto-vacuum (new ones, and those made
before migration 0005), freed pages returned in steps; PostgreSQL's eager autovacuum."""

from __future__ import annotations

import json
import os

from sqlalchemy import create_engine, text

from syncd.model import Event
from syncd.store import Store, bindings, inbox, retention
from syncd.store.db import INCREMENTAL
from syncd.store.schema import inbox as inbox_table


def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'state' / 'syncd.db'}"


def pragma(store: Store, name: str) -> int:
    with store.engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar_one()


def fill(store: Store, objects: int, versions: int, processed_at: float) -> None:
    """``objects`` orders of ``versions`` events each, with a 1.5 KB payload, all processed."""
    events = [
        Event("erp", "order", f"O{i}", str(v), {"lines": "x" * 1500, "v": v})
        for i in range(objects)
        for v in range(versions)
    ]
    rows = [
        {"stream": "s", "system": e.system, "entity": e.entity, "external_id": e.external_id,
         "version": e.version, "payload": json.dumps(e.payload), "observed_at": 1.0}
        for e in events
    ]  # fmt: skip
    with store.begin() as conn:  # as any revision since 0001 stores them
        conn.execute(inbox_table.insert(), rows)
        done = {e.id: ("done", "updated") for e in inbox.pending(conn, len(events))}
        inbox.mark(conn, done, now=processed_at)


def test_a_new_sqlite_store_gives_freed_pages_back_on_request(tmp_path):
    store = Store.open(sqlite_url(tmp_path))
    store.upgrade()
    assert pragma(store, "auto_vacuum") == INCREMENTAL
    store.dispose()


def test_a_store_made_before_0005_is_rewritten_once_into_incremental_auto_vacuum(tmp_path):
    url = sqlite_url(tmp_path)
    (tmp_path / "state").mkdir()
    old = Store(create_engine(url))  # as an older syncd made it: no auto_vacuum pragma
    old.upgrade("0004")
    fill(old, objects=20, versions=2, processed_at=1000.0)
    assert pragma(old, "auto_vacuum") == 0
    old.dispose()

    store = Store.open(url)
    store.upgrade()
    assert store.current_revision() == store.head_revision()
    assert pragma(store, "auto_vacuum") == INCREMENTAL
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM inbox").scalar_one() == 40
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    store.upgrade()  # nothing left to do: no second rewrite
    assert pragma(store, "auto_vacuum") == INCREMENTAL
    store.dispose()


def test_pages_freed_by_a_prune_go_back_to_the_file_system_in_steps(tmp_path):
    store = Store.open(sqlite_url(tmp_path))
    store.upgrade()
    fill(store, objects=300, versions=3, processed_at=1000.0)
    pages_before = pragma(store, "page_count")
    position = retention.START
    while True:
        with store.begin() as conn:
            batch = retention.prune_events(conn, 2000.0, 200, position)
        position = batch.position
        if batch.finished:
            break
    free = retention.free_pages(store)
    assert free > 100  # 600 payloads of 1.5 KB deleted, 300 emptied

    assert retention.give_back_pages(store, 100) == 100
    assert retention.free_pages(store) == free - 100
    while retention.give_back_pages(store, 100):
        pass
    assert retention.free_pages(store) == 0
    assert pragma(store, "page_count") <= pages_before - free
    with store.engine.connect() as conn:  # outside a transaction: the WAL into the file
        conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    page_size = pragma(store, "page_size")
    assert os.path.getsize(tmp_path / "state" / "syncd.db") <= (pages_before - free) * page_size
    store.dispose()


def test_postgresql_vacuums_the_churning_tables_early_and_leaves_room_for_updates(pg_url):
    store = Store.open(pg_url)
    with store.read() as conn:
        found = dict(
            conn.execute(
                text(
                    "SELECT relname, reloptions FROM pg_class WHERE relname IN "
                    "('inbox', 'outbox', 'bindings', 'dead_letters') AND relkind = 'r'"
                )
            ).all()
        )
    store.dispose()
    assert set(found) == {"inbox", "outbox", "bindings", "dead_letters"}
    for table, options in found.items():
        assert {
            "autovacuum_vacuum_scale_factor=0.02",
            "autovacuum_vacuum_threshold=1000",
            "autovacuum_analyze_scale_factor=0.01",
        } <= set(options), table
    assert "fillfactor=85" in found["bindings"] and "fillfactor=85" in found["outbox"]
    assert not any(o.startswith("fillfactor") for o in found["inbox"])


def test_a_frequent_buyer_s_figures_stay_in_their_row_on_postgresql(store):
    """Figures of ~8 KB (purchases and the folded totals; ~3.7 KB deflated, migration 0009)
    stay in the row (migration 0008), not moved to the TOAST table, whose few chunks every
    order would rewrite: 40 updates of them write no TOAST chunk."""
    entries = {  # what a frequent buyer's figures hold, with ids that do not compress
        os.urandom(16).hex(): {"at": f"2026-11-{1 + i % 28:02d}T10:00:00", "total": 1990.0 + i,
                               "stage": "complete", "order": os.urandom(16).hex()}
        for i in range(60)
    }  # fmt: skip
    figures = {"entries": entries, "settled": {"orders": 120, "ltv": 250000.0}}
    ref = ("identity", "customer", "frequent")
    assert len(json.dumps(figures)) > 8000  # ~3.7 KB packed: over the 2 KB out-of-row limit
    if store.dialect != "postgresql":
        return
    toast_rows = text(
        "SELECT coalesce(t.n_tup_ins, 0) + coalesce(t.n_tup_upd, 0) FROM pg_class c "
        "LEFT JOIN pg_stat_all_tables t ON t.relid = c.reltoastrelid "
        "WHERE c.oid = to_regclass('bindings')"
    )
    storage = text(
        "SELECT attstorage FROM pg_attribute WHERE attrelid = to_regclass('bindings') "
        "AND attname = 'facts'"
    )
    with store.begin() as conn:
        bindings.remember(conn, {ref: figures})
        conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")
    with store.read() as conn:
        assert conn.execute(storage).scalar_one() == "m"  # MAIN: compressed, in the row
        conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
        before = conn.execute(toast_rows).scalar_one()
    for _ in range(40):
        figures["settled"]["orders"] += 1
        with store.begin() as conn:
            bindings.remember(conn, {ref: figures})
            conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")
    with store.read() as conn:
        conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
        assert conn.execute(toast_rows).scalar_one() == before
        stored = conn.execute(
            text("SELECT octet_length(facts), pg_column_size(facts) FROM bindings "
                 "WHERE external_id = 'frequent'")
        ).one()  # fmt: skip
    assert stored[0] > 2000 and stored[1] >= stored[0]  # all of it in the row (out: 18 B)
