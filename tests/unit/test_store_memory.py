"""SQLite's page caches: however many connections the pool opens, one budget for them all."""

from __future__ import annotations

from syncd.store import Store
from syncd.store.db import SQLITE_HEAP_LIMIT_BYTES


def test_every_sqlite_connection_shares_one_memory_budget(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'syncd.db'}")
    try:
        # sink workers, sources, the planner: each its own connection
        opened = [store.engine.connect().execution_options(syncd_readonly=True) for _ in range(8)]
        limits = {c.exec_driver_sql("PRAGMA soft_heap_limit").scalar_one() for c in opened}
        for c in opened:
            c.close()
    finally:
        store.dispose()
    assert limits == {SQLITE_HEAP_LIMIT_BYTES}
    assert SQLITE_HEAP_LIMIT_BYTES < 8 * 16 * 1024 * 1024  # less than the caches could take
