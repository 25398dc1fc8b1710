"""The soak bench's pure parts: /proc reading, slopes, the per-1,000 rows and the verdicts.

The bench itself (``bench/soak.py``) drives the daemon for minutes to hours; here only
what it computes from its samples, on synthetic ones, and the sampler on this process.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time

import pytest

from syncd_sandbox.demo import soak, soak_report
from syncd_sandbox.demo.soak_report import MB, Sample


def samples_of(total: int, *, step: int = 100, rss=None, store=None, cpu_per_order=0.005):  # noqa: ANN001
    """A run sampled every ``step`` orders done; ``rss``/``store``: functions of done."""
    rss = rss or (lambda done: 100 * MB)
    store = store or (lambda done: 5 * MB)
    return [
        Sample(i, done, done, rss(done), 2.0 + done * cpu_per_order, store(done))
        for i, done in enumerate(range(0, total + 1, step))
    ]


def test_slope_is_least_squares_and_none_without_two_distinct_x():
    assert soak_report.slope([(0, 1), (1, 3), (2, 5)]) == pytest.approx(2.0)
    assert soak_report.slope([(0, 0), (1, 1), (2, 0), (3, 1)]) == pytest.approx(0.2)
    assert soak_report.slope([(1, 1)]) is None
    assert soak_report.slope([(2, 1), (2, 5)]) is None


def test_per_thousand_rows_give_cpu_per_thousand_and_each_thousands_lag():
    samples = samples_of(3000, store=lambda done: 1 * MB + done * 1000)
    lags = [0.5] * 1000 + [1.0] * 989 + [9.0] * 11 + [0.1] * 1000
    rows = soak_report.per_thousand(samples, lags, start_cpu=2.0)
    assert [r.orders for r in rows] == [1000, 2000, 3000]
    assert [r.cpu for r in rows] == pytest.approx([5.0, 5.0, 5.0])
    assert [r.lag_p99 for r in rows] == [0.5, 9.0, 0.1]
    assert rows[-1].store == 4 * MB and rows[-1].per_order == pytest.approx(4 * MB / 3000)


def test_per_thousand_scales_cpu_to_the_orders_a_sample_actually_covers():
    # samples land past the marks: 1,100 and 2,200 orders done
    samples = [
        Sample(0, 0, 0, MB, 0.0, MB),
        Sample(1, 1100, 1100, MB, 11.0, MB),
        Sample(2, 2200, 2200, MB, 22.0, MB),
    ]
    rows = soak_report.per_thousand(samples, [0.1] * 2200, start_cpu=0.0)
    assert [r.cpu for r in rows] == pytest.approx([10.0, 10.0])


def test_a_sample_that_jumps_two_marks_has_no_cpu_for_the_second():
    samples = [Sample(0, 0, 0, MB, 0.0, MB), Sample(1, 2000, 2000, MB, 20.0, MB)]
    rows = soak_report.per_thousand(samples, [0.1] * 2000, start_cpu=0.0)
    assert [r.cpu for r in rows] == [pytest.approx(10.0), None]


def test_trend_over_the_second_half_in_slope_and_growth():
    flat = soak_report.trend(samples_of(10_000), lambda s: s.store, 10_000)
    assert flat is not None and flat.per_order == pytest.approx(0.0) and flat.growth == 0.0
    # RSS from 100 MB at 5,000 orders done to 110 MB at 10,000: +10%, 2,000 B per order
    rising = soak_report.trend(
        samples_of(10_000, rss=lambda done: 100 * MB + max(0, done - 5000) * 2000),
        lambda s: s.rss,
        10_000,
    )
    assert rising is not None
    assert rising.per_order == pytest.approx(2000) and rising.per_thousand == pytest.approx(2e6)
    assert rising.growth == pytest.approx(0.10)


def test_cpu_rates_compare_the_last_span_with_the_first():
    # 5 ms per order for the first 25,000, 6 ms after: the last 10,000 cost 1.2x the first
    samples = [
        Sample(i, d, d, MB, 1.0 + 0.005 * min(d, 25_000) + 0.006 * max(0, d - 25_000), MB)
        for i, d in enumerate(range(0, 50_001, 500))
    ]
    whole, first, last, span = soak_report.cpu_rates(samples, 1.0, 50_000)
    assert span == 10_000
    assert first == pytest.approx(5.0) and last == pytest.approx(6.0)
    assert whole == pytest.approx(5.5)
    assert soak_report.cpu_rates(samples_of(2000), 2.0, 2000)[3] == 400  # a fifth of a short run


def test_verdicts_pass_a_run_that_levels_off():
    samples = samples_of(10_000, rss=lambda done: 120 * MB, store=lambda done: 8 * MB)
    verdicts = soak_report.verdicts(samples, 2.0, 10_000, "sqlite")
    assert all(v.ok for v in verdicts), [v.line() for v in verdicts]
    assert not any("dead" in v.name for v in verdicts)  # PostgreSQL only
    assert all(" PASS" in v.line() and "bound" in v.line() for v in verdicts)


def test_verdicts_name_each_bound_missed():
    samples = samples_of(
        10_000,
        rss=lambda done: 140 * MB + done * 2000,  # +7 MB over the second half, to 160 MB
        store=lambda done: MB + done * 3000,  # 3 KB kept per order
        cpu_per_order=0.009,  # 9 s per 1,000: over SQLite's 8, under PostgreSQL's 10
    )
    for s in samples:
        s.tuples = {"outbox": (7500, 2500) if s.done > 7000 else (9000, 1000), "inbox": (9500, 500)}
    failed = {v.name for v in soak_report.verdicts(samples, 2.0, 10_000, "sqlite") if not v.ok}
    assert failed == {
        "bytes per order retained",
        "RSS growth over the 2nd half",
        "peak RSS",
        "CPU per 1,000 orders",
    }
    pg = {v.name: v for v in soak_report.verdicts(samples, 2.0, 10_000, "postgresql")}
    assert pg["CPU per 1,000 orders"].ok
    dead = pg["dead-tuple ratio, max (2nd half)"]
    assert not dead.ok and "25.0% (outbox)" in dead.figure


def test_a_figure_that_cannot_be_measured_does_not_pass():
    one = [Sample(0, 0, 0, 100 * MB, 2.0, MB)]
    verdicts = {v.name: v for v in soak_report.verdicts(one, 2.0, 0, "postgresql")}
    assert not verdicts["bytes per order retained"].ok
    assert verdicts["bytes per order retained"].figure == "n/a"
    assert not verdicts["dead-tuple ratio, max (2nd half)"].ok
    assert not verdicts["CPU per 1,000 orders"].ok


def test_dead_tuple_ratio_is_judged_on_tables_big_enough_for_it_to_mean_something():
    assert soak_report.dead_ratio(80, 20) == pytest.approx(0.2)
    assert soak_report.dead_ratio(0, 0) == 0.0
    samples = [Sample(i, d, d, MB, 0.0, MB) for i, d in enumerate((0, 500, 1000))]
    samples[0].tuples = {"outbox": (100, 900)}  # first half: not counted
    samples[1].tuples = {"outbox": (700, 300), "inbox": (4000, 400), "leases": (4, 96)}
    samples[2].tuples = {"outbox": (850, 150), "inbox": (5000, 300), "leases": (4, 20)}
    judged, small = soak_report.dead_maxima(samples, 1000)
    assert judged == {"outbox": pytest.approx(0.3), "inbox": pytest.approx(400 / 4400)}
    assert small == {"leases": pytest.approx(0.96)}
    assert soak_report.worst_dead(samples, 1000) == ("outbox", pytest.approx(0.3))
    assert soak_report.worst_dead(samples[:1], 1000) == (None, 0.0)


def test_stat_parsing_survives_a_command_name_with_spaces_and_parentheses(tmp_path):
    (tmp_path / "42").mkdir()
    # fields 3.. : state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    #              utime stime cutime cstime ...
    rest = "S 7 42 42 0 -1 4194560 100 0 0 0 250 50 30 20 20 0 4 0 1000 123456 789"
    (tmp_path / "42" / "stat").write_text(f"42 (evil) (name) x) {rest}\n")
    (tmp_path / "42" / "status").write_text("Name:\tevil\nVmPeak:\t 9000 kB\nVmRSS:\t  2048 kB\n")
    assert soak.read_stat(42, tmp_path) == (7, 300, 50)
    assert soak.read_rss(42, tmp_path) == 2048 * 1024


def test_the_sampler_reads_this_process_and_counts_its_children():
    sampler = soak.ProcSampler(os.getpid())
    rss, cpu = sampler.sample()
    with open(f"/proc/{os.getpid()}/status") as f:
        vmrss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) * 1024
    assert rss > 0 and abs(rss - vmrss) < 64 * MB
    spent = time.process_time()
    while time.process_time() - spent < 0.1:  # some CPU to see (work, not a wait)
        sum(range(1000))
    assert sampler.sample()[1] >= cpu + 0.05
    user, system = sampler.split()
    assert user + system == pytest.approx(sampler.sample()[1], abs=0.05)
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        assert child.pid in soak.descendants(os.getpid())
    finally:
        child.communicate(b"")
    assert child.pid not in soak.descendants(os.getpid())


def test_sqlite_store_bytes_are_the_files_and_the_used_pages(tmp_path):
    db = tmp_path / "syncd.db"
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE t (x TEXT)")
    con.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 2000)
    con.commit()
    con.execute("DELETE FROM t WHERE rowid % 2 = 0")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(PASSIVE)")
    files, wal, live = soak.sqlite_store_bytes(db)
    on_disk = sum(os.path.getsize(f"{db}{s}") for s in ("", "-wal", "-shm"))
    assert files == on_disk and wal == os.path.getsize(f"{db}-wal")
    assert live is not None and 0 < live < files
    con.close()
    assert soak.sqlite_store_bytes(tmp_path / "none.db")[:2] == (0, 0)


def test_the_retention_window_counts_orders_from_days_and_the_clocks_pace():
    assert soak.retention_window(1, 1) == 1000
    assert soak.retention_window(1, 0.5) == 2000
    assert soak.retention_window(7, 2) == 3500
    assert soak.retention_window(1, 0) is None  # a clock that stands still


def test_the_clock_offset_puts_retentions_cutoff_on_the_oldest_order_of_the_window():
    day = 86400.0
    created = [1000.0 + i for i in range(3000)]  # one order a second from t=1000
    assert soak.clock_offset(created[:1000], 2000.0, 1, 1000) == 0.0  # window not full
    assert soak.clock_offset(created, 5000.0, 1, None) == 0.0
    now = 4005.0
    offset = soak.clock_offset(created, now, 1, 1000)
    cutoff = now + offset - 1 * day  # what retention computes: syncd.clock.now() - days
    assert cutoff == created[-1000] == 3000.0
    # later, with no more orders, the cutoff stays on the same order
    assert 4100.0 + soak.clock_offset(created, 4100.0, 1, 1000) - day == 3000.0
    # a longer period and window: still the oldest order of the window
    assert now + soak.clock_offset(created, now, 7, 2500) - 7 * day == created[-2500]
