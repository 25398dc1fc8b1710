"""Housekeeping in the daemon, on SQLite and PostgreSQL: retention runs a few short batches
per main-loop iteration, only where the inbox lease is held, and a prune while the daemon
runs re-sends nothing."""

from __future__ import annotations

import logging
import os
import threading
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, text

from syncd import clock
from syncd.config import load_settings
from syncd.config_retention import RetentionSettings
from syncd.engine import housekeeping as housekeeping_module
from syncd.engine.daemon import Engine
from syncd.engine.housekeeping import BATCHES_PER_TICK, Housekeeping
from syncd.metrics import Metrics
from syncd.model import Command, Event
from syncd.store import bindings, cursors, inbox, leases, outbox, retention
from syncd.store.leases import Lease
from syncd.store.schema import inbox as inbox_table
from syncd.store.schema import inbox_seen
from tests.conftest import wait_until
from tests.support.daemon import change, journal, outputs, write_config, write_feed

DAYS = 86400.0


@pytest.fixture
def advance_clock(tmp_path, monkeypatch):
    """Moves syncd's retention clock forward by a number of days."""
    offset_file = tmp_path / "clock-offset"
    offset_file.write_text("0")
    monkeypatch.setenv(clock.OFFSET_FILE_ENV, str(offset_file))
    clock.forget()

    def advance(days: float) -> None:
        offset_file.write_text(str(days * DAYS))
        clock.forget()

    yield advance
    clock.forget()


def processed_orders(store, objects: int, versions: int, at: float) -> None:
    """Events of ``objects`` orders, processed at ``at``; then, as in a running system, a
    newer one that waits (the inbox's newest row, which retention always leaves)."""
    events = [
        Event("erp", "order", f"O{i}", str(v), {"v": v}) for i in range(objects) for v in (1, 2)
    ][: objects * versions]
    with store.begin() as conn:
        inbox.add(conn, events, "s")
        pending = inbox.pending(conn, len(events))
        inbox.mark(conn, {e.id: ("done", "updated") for e in pending}, now=at)
        inbox.add(conn, [Event("erp", "order", "LIVE", "1", {"v": 1})], "s")


def inbox_lease(store) -> Lease:
    with store.begin() as conn:
        return leases.acquire(conn, "inbox", "test", 600)


def pruned(metrics: Metrics, table: str) -> float:
    value = metrics.registry.get_sample_value("syncd_store_pruned_rows_total", {"table": table})
    return value or 0.0


def test_housekeeping_runs_a_few_batches_per_iteration_and_goes_on_at_the_next(store, monkeypatch):
    monkeypatch.setattr(housekeeping_module, "TICK_BUDGET_SECONDS", 3600.0)  # batches only
    processed_orders(store, objects=20, versions=2, at=time.time() - 2 * DAYS)
    settings = RetentionSettings(events_days=1, batch_rows=5, every_seconds=3600)
    metrics = Metrics()
    keeper = Housekeeping(store, metrics)
    lease = inbox_lease(store)

    keeper.tick(settings, lease)
    assert pruned(metrics, "inbox") == BATCHES_PER_TICK * 5
    assert keeper.round is not None  # the rest waits for the next iteration
    for _ in range(10):
        keeper.tick(settings, lease)
    assert keeper.round is None
    assert pruned(metrics, "inbox") == 40  # all deleted, of 20 the version kept
    with store.read() as conn:
        states = conn.execute(select(inbox_table.c.state, func.count()).group_by("state")).all()
        kept = conn.execute(select(func.count()).select_from(inbox_seen)).scalar_one()
    assert dict(states) == {"pending": 1} and kept == 20
    assert metrics.registry.get_sample_value("syncd_store_size_bytes") > 0


def test_only_the_inbox_lease_holder_prunes_but_every_instance_measures_the_store(store):
    processed_orders(store, objects=3, versions=2, at=time.time() - 2 * DAYS)
    metrics = Metrics()
    Housekeeping(store, metrics).tick(RetentionSettings(events_days=1), lease=None)
    assert pruned(metrics, "inbox") == 0
    assert metrics.registry.get_sample_value("syncd_store_size_bytes") > 0
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(inbox_table)).scalar_one() == 7


def test_a_round_stops_when_the_inbox_lease_moved_to_another_instance(store):
    processed_orders(store, objects=3, versions=2, at=time.time() - 2 * DAYS)
    held = inbox_lease(store)
    with store.begin() as conn:  # another instance took it over since
        leases.release(conn, held)
        leases.acquire(conn, "inbox", "other", 600)
    keeper = Housekeeping(store, Metrics())
    keeper.tick(RetentionSettings(events_days=1), held)
    assert keeper.round is None
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(inbox_table)).scalar_one() == 7


def test_a_round_that_pruned_says_so_in_one_log_line(store, caplog):
    processed_orders(store, objects=3, versions=2, at=time.time() - 2 * DAYS)
    keeper = Housekeeping(store, Metrics())
    with caplog.at_level(logging.INFO, logger="syncd.engine.housekeeping"):
        done = keeper.run_round(RetentionSettings(events_days=1), inbox_lease(store))
        keeper.run_round(RetentionSettings(events_days=1), inbox_lease(store))  # nothing left
    assert done.pruned["inbox"] == 6 and done.versions_kept == 3
    # (on PostgreSQL a vacuum of a table earlier tests left bloated may log its own line)
    (line,) = [r for r in caplog.records if "retention pruned" in r.getMessage()]
    assert "retention pruned 6 rows (inbox 6, 3 versions kept" in line.getMessage()
    assert line.pruned == {"inbox": 6, "outbox": 0, "dead_letters": 0, "conflicts": 0}


def settled(store, config_dir) -> bool:
    """Everything in the feed is read, planned and written."""
    with store.read() as conn:
        state = cursors.get(conn, "feed")
        read_all = (
            state is not None
            and int(state.cursor or 0) == (config_dir / "feed.jsonl").stat().st_size
        )
        unfinished = outbox.counts(conn)
        waiting = unfinished.get("pending", 0) + unfinished.get("running", 0)
        return read_all and inbox.count_pending(conn) == 0 and waiting == 0


def test_a_prune_while_the_daemon_runs_re_sends_nothing_and_later_changes_arrive(
    tmp_path, store, db_url, advance_clock
):
    retention = {"events_days": 1, "commands_days": 1, "every_seconds": 0.05, "batch_rows": 4}
    config = write_config(tmp_path, db_url, extra={"retention": retention})
    out = tmp_path / "out"
    first = [change("order", f"O{i}", 1, total=i) for i in range(10)]
    write_feed(tmp_path, first)
    engine = Engine(load_settings(config, {}), config_path=str(config), store=store)
    runner = threading.Thread(target=engine.run, daemon=True)
    runner.start()
    try:
        wait_until(lambda: settled(store, tmp_path), what="the first orders written")
        changed = [change("order", f"O{i}", 2, total=100 + i) for i in range(5)]
        write_feed(tmp_path, changed, append=True)
        wait_until(lambda: len(journal(out)) == 15, what="the changes written")

        advance_clock(2)  # two days on: everything processed so far is past its period

        def pruned_to_versions():
            with store.read() as conn:
                events = conn.execute(select(func.count()).select_from(inbox_table)).scalar()
                kept = conn.execute(select(func.count()).select_from(inbox_seen)).scalar()
                commands = conn.execute(select(func.count()).select_from(outbox.outbox)).scalar()
            # the newest row of each table stays (ids never come back)
            return events == 1 and kept == 9 and commands == 1

        wait_until(pruned_to_versions, what="retention to prune the inbox and the outbox")
        with store.read() as conn:
            assert inbox.count_pending(conn) == 0

        # the source reads its newest lines again (a cursor reset), and new changes come
        newest = changed + first[5:]
        later = [change("order", "O0", 3, total=300), change("order", "O10", 1, total=10)]
        write_feed(tmp_path, newest + later, append=True)
        wait_until(lambda: settled(store, tmp_path), what="the repeats and changes planned")
    finally:
        engine.request_stop()
        runner.join(30)

    writes = journal(out)
    assert len(writes) == 17  # 10 + 5 + the two later changes: no repeat written again
    assert [w["object"] for w in writes[15:]] == ["out/order/O0", "out/order/O10"]
    written = outputs(out)
    assert written["order/O0"] == {"total": 300} and written["order/O10"] == {"total": 10}
    assert written["order/O4"] == {"total": 104} and written["order/O9"] == {"total": 9}
    # (the clock stays two days ahead: what came later was pruned soon after, too)
    assert pruned(engine.metrics, "inbox") >= 14 and pruned(engine.metrics, "outbox") >= 14


def test_a_run_once_ends_with_a_retention_round(tmp_path, store, db_url, advance_clock):
    config = write_config(tmp_path, db_url, extra={"retention": {"events_days": 1}})
    write_feed(tmp_path, [change("order", "O1", v, total=v) for v in (1, 2)])
    settings = load_settings(config, {})
    assert Engine(settings, config_path=str(config), store=store).run(once=True) == 0
    advance_clock(2)
    assert Engine(settings, config_path=str(config), store=store).run(once=True) == 0
    with store.read() as conn:
        rows = conn.execute(select(inbox_table.c.version, inbox_table.c.state)).all()
    assert rows == [("2", "done")]  # 1 went; 2, the inbox's newest row, stays


def test_on_postgresql_a_round_vacuums_a_table_autovacuum_left_bloated(store, caplog):
    """The machine's server runs with autovacuum off: housekeeping vacuums by itself."""
    with store.begin() as conn:
        for i in range(3000):  # applied commands, then pruned: 3,000 dead rows
            outbox.enqueue(conn, [Command("crm", "order", f"O{i}", "upsert", {}, f"k{i}")])
        conn.execute(outbox.outbox.delete())
        if store.dialect == "postgresql":  # the statistics now, not within ~10 s
            conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")
    keeper = Housekeeping(store, Metrics())
    settings = RetentionSettings(vacuum_dead_ratio=0.1)
    if store.dialect == "sqlite":  # space comes back by incremental vacuum instead
        assert retention.bloated_tables(store, 0.1) == []
        keeper.run_round(settings, inbox_lease(store))
        assert vacuums(keeper.metrics, "outbox") == 0
        return
    wait_until(lambda: retention.bloated_tables(store, 0.1), what="the statistics")
    # (the leases, a few rows renewed every second, may be over the share too)
    assert "outbox" in [t[0] for t in retention.bloated_tables(store, 0.1)]
    assert retention.bloated_tables(store, 0) == []  # 0: left to autovacuum
    with caplog.at_level(logging.INFO, logger="syncd.engine.housekeeping"):
        keeper.run_round(settings, inbox_lease(store))
    assert vacuums(keeper.metrics, "outbox") == 1
    assert any("vacuumed outbox" in r.getMessage() for r in caplog.records)
    with store.read() as conn:
        dead = conn.exec_driver_sql(
            "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'outbox'"
        ).scalar_one()
    assert dead < 1000


def test_on_postgresql_dead_toast_chunks_get_their_table_vacuumed(store):
    """Facts too big for their row (over ~8 KB even compressed) live in the TOAST table:
    every update leaves the old chunks dead there while few of the table's own rows are."""
    ref = ("identity", "customer", "1")
    if store.dialect == "postgresql":
        retention.vacuum(store, "bindings")  # what earlier tests left dead is not this test's
    # 20 KB that do not compress: too big for the row even with the facts kept inline
    with store.begin() as conn:
        bindings.remember(conn, {ref: {"figures": os.urandom(10000).hex()}})
    for _ in range(30):  # 30 dead rows (under LEAST_DEAD_ROWS), over 100 dead chunks
        with store.begin() as conn:
            bindings.remember(conn, {ref: {"figures": os.urandom(10000).hex()}})
    if store.dialect == "sqlite":
        assert retention.bloated_tables(store, 0.1) == []
        return
    with store.begin() as conn:
        conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")
    found = wait_until(
        lambda: [t for t in retention.bloated_tables(store, 0.1) if t[0] == "bindings"],
        what="the statistics",
    )
    ((_, share, toast_only),) = found
    assert share > 0.5 and toast_only  # only the TOAST table is bloated: only it is vacuumed
    counts = text(
        "SELECT h.vacuum_count, t.vacuum_count FROM pg_stat_user_tables h "
        "JOIN pg_class c ON c.oid = h.relid JOIN pg_stat_all_tables t ON t.relid = "
        "c.reltoastrelid WHERE h.relname = 'bindings' AND h.schemaname = current_schema()"
    )

    def vacuum_counts():  # noqa: ANN202 - (the table's, its TOAST table's), all time
        with store.read() as conn:
            conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
            return tuple(conn.execute(counts).one())

    table_before, toast_before = vacuum_counts()
    keeper = Housekeeping(store, Metrics())
    keeper.run_round(RetentionSettings(vacuum_dead_ratio=0.1), inbox_lease(store))
    assert vacuums(keeper.metrics, "bindings") == 1
    with store.begin() as conn:
        conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")
    assert retention.bloated_tables(store, 0.1) == []
    wait_until(lambda: vacuum_counts()[1] > toast_before, what="the TOAST table's vacuum")
    assert vacuum_counts()[0] == table_before  # the table itself (rows, indexes) left alone


def test_a_table_s_statistics_are_refreshed_with_its_vacuum_at_most_every_ten_minutes(
    store, monkeypatch
):
    """ANALYZE of a large table cost four times its vacuum on the main loop: vacuumed
    every second or so under load, its statistics are refreshed every ten minutes."""
    done = []
    bloated = [("outbox", 0.3, False), ("bindings", 0.2, True)]
    monkeypatch.setattr(retention, "bloated_tables", lambda store, ratio: bloated)

    def vacuum(store, table, toast_only=False, analyze=False):  # noqa: ANN001, ANN202
        done.append((table, toast_only, analyze))

    monkeypatch.setattr(retention, "vacuum", vacuum)
    now = [1000.0]
    monkeypatch.setattr(housekeeping_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    keeper = Housekeeping(store, Metrics())
    keeper._next_round_at = float("inf")
    settings = RetentionSettings(every_seconds=3600, vacuum_check_seconds=1)
    for step in (0, 1, 1, housekeeping_module.ANALYZE_EVERY_SECONDS):
        now[0] += step
        keeper.tick(settings, inbox_lease(store))
    assert done == [
        ("outbox", False, True),  # first: with its statistics
        ("bindings", True, False),  # a TOAST table alone: no statistics of its own
        ("outbox", False, False),
        ("bindings", True, False),
        ("outbox", False, False),
        ("bindings", True, False),
        ("outbox", False, True),  # ten minutes on
        ("bindings", True, False),
    ]


def test_on_postgresql_a_bloated_table_is_vacuumed_between_rounds_every_check(store, monkeypatch):
    """Rows changing state several times a second bloat the outbox long before the next
    retention round: the dead share is looked at every vacuum_check_seconds."""
    with store.begin() as conn:
        for i in range(600):
            outbox.enqueue(conn, [Command("crm", "order", f"O{i}", "upsert", {}, f"k{i}")])
        conn.execute(outbox.outbox.delete())
        if store.dialect == "postgresql":
            conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")
    keeper = Housekeeping(store, Metrics())
    keeper._next_round_at = float("inf")  # no round due for an hour
    settings = RetentionSettings(every_seconds=3600, vacuum_dead_ratio=0.1, vacuum_check_seconds=2)
    now = [1000.0]
    monkeypatch.setattr(housekeeping_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    if store.dialect == "postgresql":
        wait_until(lambda: retention.bloated_tables(store, 0.1), what="the statistics")
    keeper.tick(settings, None)  # no lease: another instance looks after the store
    assert vacuums(keeper.metrics, "outbox") == 0
    keeper.tick(settings, inbox_lease(store))
    expected = 1 if store.dialect == "postgresql" else 0  # SQLite gives pages back instead
    assert vacuums(keeper.metrics, "outbox") == expected
    assert keeper.round is None  # no retention round started for it
    with store.begin() as conn:  # bloated again at once: looked at after 2 s, not before
        for i in range(600):
            outbox.enqueue(conn, [Command("crm", "order", f"P{i}", "upsert", {}, f"p{i}")])
        conn.execute(outbox.outbox.delete())
        if store.dialect == "postgresql":
            conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")
    if store.dialect == "postgresql":
        wait_until(lambda: retention.bloated_tables(store, 0.1), what="the statistics")
    now[0] += 1.0
    keeper.tick(settings, inbox_lease(store))
    assert vacuums(keeper.metrics, "outbox") == expected
    now[0] += 1.5
    keeper.tick(settings, inbox_lease(store))
    assert vacuums(keeper.metrics, "outbox") == 2 * expected


def vacuums(metrics: Metrics, table: str) -> float:
    value = metrics.registry.get_sample_value("syncd_store_vacuums_total", {"table": table})
    return value or 0.0


def test_on_postgresql_every_bloated_table_is_vacuumed_at_one_look(store, monkeypatch):
    """Several tables churn at once under load: a look vacuums each one over the share,
    not only the worst, which left the others to reach twice the share meanwhile."""
    with store.begin() as conn:
        for i in range(600):
            outbox.enqueue(conn, [Command("crm", "order", f"O{i}", "upsert", {}, f"k{i}")])
        conn.execute(outbox.outbox.delete())
        inbox.add(conn, [Event("erp", "order", f"E{i}", "1", {"v": i}) for i in range(600)], "s")
        conn.execute(inbox_table.delete())
        if store.dialect == "postgresql":
            conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")
    if store.dialect == "postgresql":
        wait_until(
            lambda: {"inbox", "outbox"} <= {t[0] for t in retention.bloated_tables(store, 0.1)},
            what="the statistics",
        )
    keeper = Housekeeping(store, Metrics())
    keeper._next_round_at = float("inf")
    settings = RetentionSettings(every_seconds=3600, vacuum_dead_ratio=0.1, vacuum_check_seconds=2)
    keeper.tick(settings, inbox_lease(store))
    expected = 1 if store.dialect == "postgresql" else 0
    assert (vacuums(keeper.metrics, "outbox"), vacuums(keeper.metrics, "inbox")) == (
        expected,
        expected,
    )
