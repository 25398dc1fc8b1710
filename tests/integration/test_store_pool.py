"""The store's pool keeps the connections the daemon's threads use at once.

A pool smaller than the threads that write at once closed each extra
connection when it came back and opened a new one for the next transaction
(on PostgreSQL a new server process each time), all day long."""

from __future__ import annotations

import threading

from sqlalchemy import event

from syncd.store import Store

THREADS = 12  # the daemon's: main loop, 2 sources, 4 sink workers, 4 web threads, metrics


def test_threads_writing_at_once_reuse_the_pools_connections(db_url):
    store = Store.open(db_url)
    opened = []
    event.listen(store.engine, "connect", lambda *_: opened.append(1))
    try:
        for _ in range(3):  # three rounds of every thread in a transaction at once
            together = threading.Barrier(THREADS, timeout=30)

            def write(together: threading.Barrier = together) -> None:
                with store.read() as conn:
                    conn.exec_driver_sql("SELECT 1")
                    together.wait()

            threads = [threading.Thread(target=write) for _ in range(THREADS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert not any(t.is_alive() for t in threads)
        assert len(opened) == THREADS  # opened once each, then reused
    finally:
        store.dispose()
