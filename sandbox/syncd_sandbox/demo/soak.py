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
- the report, pure functions of the samples, is ``syncd_sandbox/demo/soak_report.py``.

"""

from __future__ import annotations

import itertools
import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from syncd_sandbox.demo.chaos import Shop
from syncd_sandbox.demo.day import Expectation

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


PG_TABLES = """
    SELECT h.relname, pg_total_relation_size(h.relid), h.n_live_tup, h.n_dead_tup,
           coalesce(t.n_live_tup, 0), coalesce(t.n_dead_tup, 0)
    FROM pg_stat_user_tables AS h
    JOIN pg_class AS c ON c.oid = h.relid
    LEFT JOIN pg_stat_all_tables AS t ON t.relid = c.reltoastrelid
"""


def pg_store_figures(conn) -> tuple[int, dict[str, tuple[int, int]]]:  # noqa: ANN001 - DB-API
    """(total bytes of every table with its indexes and TOAST; table -> (live, dead)
    tuples, a table's TOAST chunks as "<table> TOAST"), over the user tables of the
    connection's database (a fresh one: syncd's)."""
    cur = conn.cursor()
    cur.execute(PG_TABLES)
    total, tuples = 0, {}
    for name, size, n_live, n_dead, toast_live, toast_dead in cur.fetchall():
        total += size
        tuples[name] = (n_live, n_dead)
        if toast_live or toast_dead:
            tuples[f"{name} TOAST"] = (toast_live, toast_dead)
    return total, tuples


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
