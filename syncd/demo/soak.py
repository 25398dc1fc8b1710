"""The soak harness's pieces: what a long run of orders costs the daemon, and whether it levels off.

``bench/soak.py`` drives the chaos harness's shop (no faults, no kills) against
the daemon as its own process and samples, every second, what is here:

- ``ProcSampler``: a process's RSS (``VmRSS``) and CPU seconds (utime + stime),
  its descendants included, read from /proc;
- ``sqlite_store_bytes`` / ``pg_store_figures``: the store on disk (SQLite: the
  file with its -wal and -shm, and the bytes in used pages; PostgreSQL: every
  table's ``pg_total_relation_size`` and its dead-tuple ratio);
- ``SoakShop``: the chaos shop, looking only at what it still waits for, so that a
  tick costs the same at the 50,000th order as at the first, and noting when each
  order's whole life is done;
- ``per_thousand``, ``trend``, ``verdicts``: the report, pure functions of the samples.

Bytes are decimal: 1 KB = 1,000 bytes, 1 MB = 1,000,000 bytes.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from syncd.demo.chaos import Shop
from syncd.demo.day import Expectation, percentile

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


# -- the daemon's process, from /proc ----------------------------------------------------


def read_stat(pid: int, proc: Path = Path("/proc")) -> tuple[int, int, int]:
    """(parent pid, own CPU ticks utime + stime, reaped children's ticks cutime + cstime)."""
    text = (proc / str(pid) / "stat").read_text()
    # the command name (field 2) is in parentheses and may hold spaces or ")"
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state) of proc(5): utime is field 14, cstime field 17
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return int(fields[1]), utime + stime, cutime + cstime


def read_rss(pid: int, proc: Path = Path("/proc")) -> int:
    """Resident set size in bytes (``VmRSS``); 0 for a zombie, which has none."""
    for line in (proc / str(pid) / "status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def descendants(pid: int, proc: Path = Path("/proc")) -> list[int]:
    """Every live process below ``pid`` (children, theirs, …)."""
    children: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                parent = read_stat(int(entry.name), proc)[0]
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


class ProcSampler:
    """One process's RSS and CPU, with whatever it spawned: live descendants' own, and
    the reaped ones' through the kernel's cutime/cstime."""

    def __init__(self, pid: int, proc: Path = Path("/proc")) -> None:
        self.pid, self.proc = pid, proc
        self.tick = os.sysconf("SC_CLK_TCK")

    def sample(self) -> tuple[int, float]:
        """(RSS bytes, CPU seconds); OSError when the process is gone."""
        _, own, reaped = read_stat(self.pid, self.proc)
        rss, ticks = read_rss(self.pid, self.proc), own + reaped
        for kid in descendants(self.pid, self.proc):
            try:
                ticks += read_stat(kid, self.proc)[1]
                rss += read_rss(kid, self.proc)
            except (OSError, ValueError, IndexError):
                continue  # ended between the listing and now: its parent reaps it
        return rss, ticks / self.tick

    def split(self) -> tuple[float, float]:
        """(user, system) CPU seconds of the process itself, its reaped children included."""
        text = (self.proc / str(self.pid) / "stat").read_text()
        utime, stime, cutime, cstime = (int(x) for x in text[text.rindex(")") + 2 :].split()[11:15])
        return (utime + cutime) / self.tick, (stime + cstime) / self.tick


# -- the store ------------------------------------------------------------------------


def sqlite_store_bytes(db: Path) -> tuple[int, int, int | None]:
    """(bytes of the file, its -wal and -shm; of the -wal alone; in used pages, None if
    the file cannot be read now)."""
    sizes = {}
    for suffix in ("", "-wal", "-shm"):
        try:
            sizes[suffix] = os.stat(f"{db}{suffix}").st_size
        except FileNotFoundError:
            sizes[suffix] = 0
    files, wal = sum(sizes.values()), sizes["-wal"]
    try:
        # short-lived and read-only: a reader held open would keep checkpoints from
        # finishing and the WAL from being reused
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            size, pages, free = (
                con.execute(f"PRAGMA {p}").fetchone()[0]
                for p in ("page_size", "page_count", "freelist_count")
            )
        finally:
            con.close()
    except sqlite3.Error:
        return files, wal, None
    return files, wal, (pages - free) * size


PG_TABLES = (
    "SELECT relname, pg_total_relation_size(relid), n_live_tup, n_dead_tup FROM pg_stat_user_tables"
)


def pg_store_figures(conn) -> tuple[int, dict[str, tuple[int, int]]]:  # noqa: ANN001 - DB-API
    """(total bytes of every table with its indexes and TOAST; table -> (live, dead)
    tuples), over the user tables of the connection's database (a fresh one: syncd's)."""
    cur = conn.cursor()
    cur.execute(PG_TABLES)
    total, tuples = 0, {}
    for name, size, n_live, n_dead in cur.fetchall():
        total += size
        tuples[name] = (n_live, n_dead)
    return total, tuples


def dead_ratio(live: int, dead: int) -> float:
    return dead / (live + dead) if live + dead else 0.0


# -- the shop ---------------------------------------------------------------------------


class SoakShop(Shop):
    """The chaos shop for long runs.  Its expectations are the same; it only watches the
    ones still open, the CRM's orders it has not seen yet and the orders it has yet to
    decide or ship.  ``lives`` notes each order whose whole life is done — created,
    agreed or cancelled, shipped where it ships, and each of these seen on the other
    side — as (ref, when, lag from its creation in 1C to its arrival in the CRM)."""

    def __init__(self, world, seed: int, notify: Callable[[str, dict], None]) -> None:  # noqa: ANN001
        super().__init__(world, seed, notify)
        self.open: list[Expectation] = []
        self.of_ref: dict[str, list[Expectation]] = {}  # orders whose life goes on
        self.to_decide: set[str] = set()  # to agree or cancel once in the CRM
        self.to_ship_now: set[str] = set()  # agreed, to ship once agreed in 1C
        self.crm_by_ref: dict[str, dict] = {}  # the sandbox's own (live) records
        self._crm_seen = 0
        self._unnamed: list[dict] = []  # CRM orders with no externalId (yet)
        self.lives: list[tuple[str, float, float]] = []

    def _expect(self, direction: str, what: str, ref: str, check: Callable[[], bool]) -> None:
        super()._expect(direction, what, ref, check)
        self.open.append(self.expectations[-1])
        self.of_ref.setdefault(ref, []).append(self.expectations[-1])

    def new_site_order(self) -> None:
        super().new_site_order()
        ref = self.expectations[-1].ref
        if self.fate[ref] != "new":
            self.to_decide.add(ref)

    def _crm(self, ref: str) -> dict | None:
        return self.crm_by_ref.get(ref)

    def observe(self) -> None:
        now = self.clock()
        state = self.world.crm.state
        with state.lock:  # the sandbox only adds orders (in this harness nothing deletes one)
            orders = state.records["order"]
            fresh = list(itertools.islice(orders.values(), self._crm_seen, None))
            self._crm_seen = len(orders)
        named = [o for o in self._unnamed + fresh if o.get("externalId")]
        self._unnamed = [o for o in self._unnamed + fresh if not o.get("externalId")]
        self.crm_by_ref.update((o["externalId"], o) for o in named)
        still, touched = [], []
        for e in self.open:
            if e.check():
                e.done_at = now
                touched.append(e.ref)
            else:
                still.append(e)
        self.open = still
        for ref in dict.fromkeys(touched):
            self._maybe_lived(ref)

    def act(self) -> None:
        for ref in sorted(self.to_decide):
            order = self.crm_by_ref.get(ref)
            if order is None or order.get("status") != "new":
                continue
            self.to_decide.discard(ref)
            if self.fate[ref] == "agree":
                self.agree(order)
                if ref in self.to_ship:
                    self.to_ship_now.add(ref)
            else:
                self.cancel(order)
        for ref in sorted(self.to_ship_now):
            if self._agreed_in_erp(ref):
                self.to_ship_now.discard(ref)
                self.ship(ref)

    def all_acted(self) -> bool:
        return not self.to_decide and not self.to_ship_now

    def settled(self) -> bool:
        return not self.open

    def _maybe_lived(self, ref: str) -> None:
        fate, expectations = self.fate.get(ref), self.of_ref.get(ref)
        if fate is None or expectations is None:
            return
        if fate == "agree" and (
            ref not in self.agreed or (ref in self.to_ship and ref not in self.shipped)
        ):
            return
        if fate == "cancel" and ref not in self.cancelled:
            return
        if any(e.done_at is None for e in expectations):
            return
        del self.of_ref[ref]
        created = expectations[0]  # "new order": in the CRM
        when = max(e.done_at for e in expectations)  # type: ignore[type-var]
        self.lives.append((ref, when, created.done_at - created.started))  # type: ignore[operator]


# -- retention's clock -----------------------------------------------------------------


def retention_window(days: float, days_per_1000: float) -> int | None:
    """The orders a window of ``days`` holds when the clock, as retention sees it, runs
    ``days_per_1000`` days per 1,000 orders; None: the clock does not run."""
    return max(1, round(1000 * days / days_per_1000)) if days_per_1000 > 0 else None


def clock_offset(created: Sequence[float], now: float, days: float, window: int | None) -> float:
    """The seconds ``syncd.clock.now()`` must add to the real time (``now``, epoch) so that
    retention's cutoff, ``now() - days``, falls on the creation of the oldest of the latest
    ``window`` orders (``created``: each order's creation, epoch seconds, in order).

    Rows carry real times (processed, done, resolved) and only the cutoff reads the
    moved clock (syncd/clock.py), so a cutoff pinned there is what a window of ``days``
    over ``window`` orders means.  0 until more than ``window`` orders exist: nothing is
    old enough yet."""
    if window is None or len(created) <= window:
        return 0.0
    return days * 86400 - (now - created[-window])


# -- the report ------------------------------------------------------------------------


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
