"""The soak's report: per 1,000 orders, the trends over the second half, and each
figure beside the issue's bound — pure functions of the samples ``bench/soak.py``
takes with ``syncd_sandbox/demo/soak.py``.

Bytes are decimal: 1 KB = 1,000 bytes, 1 MB = 1,000,000 bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from syncd_sandbox.demo.day import percentile

KB, MB = 1000, 1000 * 1000

# the bounds
BYTES_PER_ORDER = 2 * KB  # retained beyond the retention window
DEAD_RATIO = 0.20
RSS_GROWTH = 0.05  # over the second half
PEAK_RSS = 150 * MB
CPU_PER_1000 = {"sqlite": 8.0, "postgresql": 10.0}
CPU_RATIO = 1.10  # the last 10,000 orders' CPU against the first 10,000's
CPU_SPAN = 10_000  # or a fifth of a shorter run
# A table judged for dead tuples has this many rows: below it, PostgreSQL's autovacuum
# threshold (50 dead rows, then a nap of a minute) alone keeps a few-row table like
# leases, renewed every tick, mostly dead; its ratio is shown, not judged.
DEAD_MIN_ROWS = 1000


def dead_ratio(live: int, dead: int) -> float:
    return dead / (live + dead) if live + dead else 0.0


@dataclass
class Sample:
    t: float  # seconds since the first order
    created: int
    done: int  # orders whose life is done
    rss: int  # bytes
    cpu: float  # seconds
    store: int  # bytes on disk
    live: int | None = None  # SQLite: bytes in used pages
    wal: int | None = None  # SQLite: bytes of the -wal file
    # PostgreSQL: table -> (live, dead) tuples, from pg_stat_user_tables
    tuples: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass
class Row:
    orders: int
    cpu: float | None  # CPU seconds per 1,000 orders over this thousand
    rss: int
    store: int
    live: int | None
    wal: int | None
    per_order: float  # store bytes / orders done
    lag_p99: float | None


def at(samples: Sequence[Sample], done: int) -> Sample | None:
    """The first sample by which ``done`` orders were done."""
    return next((s for s in samples if s.done >= done), None)


def per_thousand(
    samples: Sequence[Sample], lags: Sequence[float], start_cpu: float, step: int = 1000
) -> list[Row]:
    """A row each ``step`` orders done: CPU for those (scaled to exactly ``step`` orders:
    a sample falls a few orders past the mark), RSS and store then, and the p99 lag of
    the orders done in that step (``lags`` in the order their lives were done)."""
    rows: list[Row] = []
    last_done, last_cpu = 0, start_cpu
    for mark in range(step, (samples[-1].done if samples else 0) + 1, step):
        s = at(samples, mark)
        assert s is not None
        cpu = None
        if s.done > last_done:  # else one sample jumped past two marks
            cpu = (s.cpu - last_cpu) * step / (s.done - last_done)
            last_done, last_cpu = s.done, s.cpu
        lag = percentile(list(lags[mark - step : mark]), 0.99)
        rows.append(Row(mark, cpu, s.rss, s.store, s.live, s.wal, s.store / s.done, lag))
    return rows


def slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of y over x; None with fewer than two distinct x."""
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in points) / sxx


@dataclass
class Trend:
    per_order: float  # the fitted slope: units per order
    growth: float  # the fitted rise over the second half / the fitted value at its start

    @property
    def per_thousand(self) -> float:
        return self.per_order * 1000


def trend(samples: Sequence[Sample], value: Callable[[Sample], float], total: int) -> Trend | None:
    """The line through ``value`` against orders done, over the second half of ``total``."""
    half = total / 2
    points = [(float(s.done), float(value(s))) for s in samples if s.done >= half]
    b = slope(points)
    if b is None:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    start = my + b * (half - mx)
    return Trend(b, b * (total - half) / start if start > 0 else float("inf"))


@dataclass
class Verdict:
    name: str
    figure: str
    bound: str
    ok: bool  # a figure that could not be measured does not pass

    def line(self) -> str:
        return f"{self.name:<34} {self.figure:<30} bound {self.bound:<14} " + (
            "PASS" if self.ok else "FAIL"
        )


def cpu_rates(
    samples: Sequence[Sample], start_cpu: float, total: int
) -> tuple[float | None, float | None, float | None, int]:
    """(CPU s per 1,000 orders over the run, over the first span, over the last span; the
    span: 10,000 orders, or a fifth of a shorter run)."""
    span = min(CPU_SPAN, total // 5)
    end = at(samples, total) or (samples[-1] if samples else None)
    if end is None or end.done == 0:
        return None, None, None, span
    whole = (end.cpu - start_cpu) * 1000 / end.done
    first = at(samples, span) if span else None
    before_last = at(samples, total - span) if span else None
    first_rate = (first.cpu - start_cpu) * 1000 / first.done if first and first.done else None
    last_rate = None
    if before_last is not None and end.done > before_last.done:
        last_rate = (end.cpu - before_last.cpu) * 1000 / (end.done - before_last.done)
    return whole, first_rate, last_rate, span


def verdicts(samples: Sequence[Sample], start_cpu: float, total: int, kind: str) -> list[Verdict]:
    """Each bound of the issue beside the run's figure."""
    out: list[Verdict] = []
    store = trend(samples, lambda s: s.store, total)
    out.append(
        Verdict(
            "bytes per order retained",
            f"{store.per_order:,.0f} B/order" if store else "n/a",
            f"<= {BYTES_PER_ORDER:,} B",
            store is not None and store.per_order <= BYTES_PER_ORDER,
        )
    )
    if kind == "postgresql":
        name, worst = worst_dead(samples, total)
        out.append(
            Verdict(
                "dead-tuple ratio, max (2nd half)",  # tables of DEAD_MIN_ROWS rows or more
                f"{worst:.1%} ({name})" if name else "n/a",
                f"< {DEAD_RATIO:.0%}",
                name is not None and worst < DEAD_RATIO,
            )
        )
    rss = trend(samples, lambda s: s.rss, total)
    out.append(
        Verdict(
            "RSS growth over the 2nd half",
            f"{rss.growth:+.1%}" if rss else "n/a",
            f"< {RSS_GROWTH:.0%}",
            rss is not None and rss.growth < RSS_GROWTH,
        )
    )
    peak = max((s.rss for s in samples), default=0)
    out.append(
        Verdict(
            "peak RSS", f"{peak / MB:.1f} MB", f"<= {PEAK_RSS / MB:.0f} MB", 0 < peak <= PEAK_RSS
        )
    )
    whole, first, last, span = cpu_rates(samples, start_cpu, total)
    bound = CPU_PER_1000[kind]
    out.append(
        Verdict(
            "CPU per 1,000 orders",
            f"{whole:.2f} s" if whole is not None else "n/a",
            f"<= {bound:.0f} s",
            whole is not None and whole <= bound,
        )
    )
    ratio = last / first if first and last is not None else None
    out.append(
        Verdict(
            f"CPU last/first {span:,} orders",
            f"{ratio:.2f}x ({last:.2f} / {first:.2f} s)" if ratio is not None else "n/a",
            f"<= {CPU_RATIO:.2f}x",
            ratio is not None and ratio <= CPU_RATIO,
        )
    )
    return out


def dead_maxima(
    samples: Sequence[Sample], total: int, min_rows: int = DEAD_MIN_ROWS
) -> tuple[dict[str, float], dict[str, float]]:
    """Each table's highest dead-tuple ratio over the second half: (the tables judged,
    over the samples where they held ``min_rows`` rows or more; the tables that never
    did, over every sample)."""
    judged: dict[str, float] = {}
    small: dict[str, float] = {}
    for s in samples:
        if s.done < total / 2:
            continue
        for table, (live, dead) in s.tuples.items():
            ratio = dead_ratio(live, dead)
            if live + dead >= min_rows:
                judged[table] = max(judged.get(table, 0.0), ratio)
            else:
                small[table] = max(small.get(table, 0.0), ratio)
    return judged, {t: r for t, r in small.items() if t not in judged}


def worst_dead(samples: Sequence[Sample], total: int) -> tuple[str | None, float]:
    """The judged table with the highest dead-tuple ratio over the second half, and it."""
    judged, _ = dead_maxima(samples, total)
    if not judged:
        return None, 0.0
    name = max(judged, key=lambda t: judged[t])
    return name, judged[name]
