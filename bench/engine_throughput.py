#!/usr/bin/env python3
"""Events per second through inbox → flow → outbox → sink, on SQLite and PostgreSQL.

    .venv/bin/python bench/engine_throughput.py [--events 50000] [--retained 1000000]

A synthetic source yields N changes of N distinct objects; the copy flow
plans them; an in-memory sink applies them.  The three stages run one after
the other in this process, through the real store code, and the figure is
N divided by the wall time of all three.

PostgreSQL is measured in the states a production store is found in:
  fresh       new tables, no statistics;
  analyzed    the fresh run's rows kept and ANALYZE run, then N new objects;
  retained    1,000,000 applied commands kept (their events and bindings too),
              ANALYZE run, then N new objects;
and with one and with two instances sharing the work (two processes, a source
stream each; the planner lease lets one plan at a time, both apply).

Targets: >= 5,000 events/s on 2 cores in every state, and PostgreSQL never below
80% of the SQLite figure of the same run; two instances >= 1.5x one.  The exit
code is 0 when SQLite's target is met (PostgreSQL's bounds are printed).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from syncd.engine.applying import apply_claims, claim_for  # noqa: E402
from syncd.engine.contracts import PartContext, Result, Sink, Source, SourceBatch  # noqa: E402
from syncd.engine.pipeline import Pipeline  # noqa: E402
from syncd.engine.planning import plan_pending  # noqa: E402
from syncd.engine.retry import RetryPolicy  # noqa: E402
from syncd.engine.sourcing import run_source  # noqa: E402
from syncd.flows.copy import CopyFlow, CopyOptions  # noqa: E402
from syncd.model import Event  # noqa: E402
from syncd.store import Store, leases  # noqa: E402
from syncd.store.sql import dumps  # noqa: E402

TARGET = 5000.0  # events/s end to end, every store and state
TARGET_SHARE = 0.80  # PostgreSQL against the SQLite figure of the same run
TARGET_TWO = 1.5  # two instances against one
PAGE = 500


class SyntheticSource(Source):
    kind = "bench_synthetic"

    def __init__(self, first: int, total: int, name: str = "bench") -> None:
        super().__init__(name, "erp", None, PartContext(None, None))  # type: ignore[arg-type]
        self.first, self.end = first, first + total

    def poll(self, cursor):  # noqa: ANN001, ANN201
        start = int(cursor or self.first)
        now = time.time()
        for first in range(start, self.end, PAGE):
            last = min(first + PAGE, self.end)
            events = [
                Event(
                    "erp",
                    "order",
                    f"ORD-{i:08d}",
                    "1",
                    _payload(i),
                    changed_at=now,
                )
                for i in range(first, last)
            ]
            yield SourceBatch(events, last)


def _payload(i: int) -> dict:
    return {"number": i, "total": i * 1.5, "status": "new", "lines": [{"sku": "A", "qty": 1}]}


class MemorySink(Sink):
    kind = "bench_memory"
    batch_size = 500

    def __init__(self) -> None:
        super().__init__("crm", "crm", None, PartContext(None, None))  # type: ignore[arg-type]
        self.objects: dict[str, dict] = {}

    def apply(self, commands):  # noqa: ANN001, ANN201
        for c in commands:
            self.objects[c.object_key] = c.payload
        return [Result.applied(c) for c in commands]


def _pipeline(sources: list[Source]) -> tuple[Pipeline, MemorySink]:
    sink = MemorySink()
    flow = CopyFlow("orders", "erp", [], "crm", CopyOptions(), PartContext(None, None))
    return Pipeline({s.name: s for s in sources}, [flow], {"crm": sink}), sink


def measure(store: Store, total: int, first: int = 0) -> dict[str, float]:
    """Move ``total`` new objects (numbered from ``first``) through the three stages."""
    source = SyntheticSource(first, total, f"bench{first}")
    pipeline, sink = _pipeline([source])
    with store.begin() as conn:
        src_lease = leases.acquire(conn, f"source:{source.name}", "bench", ttl=3600)
        inbox_lease = leases.acquire(conn, "inbox", "bench", ttl=3600)
    policy = RetryPolicy()
    t0 = time.perf_counter()
    run = run_source(store, source, src_lease)
    t1 = time.perf_counter()
    while plan_pending(store, pipeline, inbox_lease, PAGE).events:
        pass
    t2 = time.perf_counter()
    while claims := claim_for(store, sink, "bench", claim_ttl=600):
        apply_claims(store, sink, claims, policy)
    t3 = time.perf_counter()
    assert run.new_events == total and len(sink.objects) == total, "not every event arrived"
    return {
        "source": total / (t1 - t0),
        "flow": total / (t2 - t1),
        "sink": total / (t3 - t2),
        "total": total / (t3 - t0),
    }


def fresh(store: Store, total: int) -> dict[str, float]:
    store.upgrade()
    store.truncate_all()
    return measure(store, total)


def analyze(store: Store) -> None:
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")


# 1,000,000 applied objects as the engine leaves them: a done event, a done command,
# the object's binding on both sides (shaped as measure's own rows)
RETAINED_SQL = [
    """INSERT INTO inbox (stream, system, entity, external_id, version, payload, changed_at,
           observed_at, state, outcome, processed_at)
       SELECT 'old', 'erp', 'order', 'OLD-' || lpad(g::text, 8, '0'), '1', :payload,
              :now, :now, 'done', 'created', :now
       FROM generate_series(1, :n) AS g""",
    """INSERT INTO outbox (idempotency_key, target, entity, object_id, object_key, action,
           payload, fingerprint, flow, origin_system, origin_id, source_changed_at, created_at,
           state, attempts, next_attempt_at, done_at)
       SELECT 'orders:crm:OLD-' || lpad(g::text, 8, '0') || '\\:1', 'crm', 'order',
              'OLD-' || lpad(g::text, 8, '0'), 'crm/order/OLD-' || lpad(g::text, 8, '0'),
              'upsert', :payload, md5(g::text), 'orders', 'erp', 'OLD-' || lpad(g::text, 8, '0'),
              :now, :now, 'done', 1, :now, :now
       FROM generate_series(1, :n) AS g""",
    """INSERT INTO bindings (link, system, entity, external_id, fingerprint, written_at,
           updated_at)
       SELECT md5(g::text), s.system, 'order', 'OLD-' || lpad(g::text, 8, '0'),
              CASE WHEN s.system = 'crm' THEN md5(g::text) END, :now, :now
       FROM generate_series(1, :n) AS g CROSS JOIN (VALUES ('erp'), ('crm')) AS s(system)""",
]


def retain_applied(store: Store, n: int) -> None:
    from sqlalchemy import text

    params = {"n": n, "now": time.time(), "payload": dumps(_payload(1))}
    with store.begin() as conn:
        for sql in RETAINED_SQL:
            conn.execute(text(sql), params)


def _instance(url: str, owner: str, streams: list, total: int, applied, out) -> None:  # noqa: ANN001
    """One daemon's rounds, as the engine runs them: its source streams, planning when
    it holds the planner lease, applying whatever it claims; until all are applied
    (``applied`` counts every instance's, so that waiting costs the store nothing)."""
    store = Store.open(url)
    sources = [SyntheticSource(first, n, f"stream{first}") for first, n in streams]
    pipeline, sink = _pipeline(sources)
    policy = RetryPolicy()
    polled: set[str] = set()
    while applied.value < total:
        busy = 0
        for source in sources:
            if source.name not in polled:
                with store.begin() as conn:
                    lease = leases.acquire(conn, f"source:{source.name}", owner, ttl=3600)
                busy += run_source(store, source, lease).new_events  # type: ignore[arg-type]
                polled.add(source.name)
        with store.begin() as conn:
            planner = leases.acquire(conn, "inbox", owner, ttl=3600)
        if planner is not None:
            busy += plan_pending(store, pipeline, planner, PAGE).events
        if claims := claim_for(store, sink, owner, claim_ttl=600):
            done = apply_claims(store, sink, claims, policy).applied
            with applied.get_lock():
                applied.value += done
            busy += done
        if not busy:
            time.sleep(0.01)  # the other instance is still at work
    out.put((owner, len(sink.objects)))
    store.dispose()


def _cpu_times() -> tuple[float, float]:
    """(busy, all) jiffies of every core since boot (Linux), or zeros elsewhere."""
    try:
        fields = [float(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def instances(store: Store, url: str, total: int, count: int) -> tuple[float, float]:
    """Events/s end to end with ``count`` instances, the work in ``count`` streams, and
    the share of the machine's cores busy meanwhile (daemons and PostgreSQL alike)."""
    store.truncate_all()
    share = total // count
    streams = [[(i * share, share)] for i in range(count)]
    ctx = multiprocessing.get_context("spawn")
    out, applied = ctx.Queue(), ctx.Value("q", 0)
    procs = [
        ctx.Process(target=_instance, args=(url, f"i{i}", streams[i], share * count, applied, out))
        for i in range(count)
    ]
    busy0, all0 = _cpu_times()
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    applied = [out.get(timeout=3600) for _ in procs]
    elapsed = time.perf_counter() - t0
    busy1, all1 = _cpu_times()
    for p in procs:
        p.join()
    assert sum(n for _, n in applied) == share * count, f"not every event applied: {applied}"
    return share * count / elapsed, (busy1 - busy0) / max(all1 - all0, 1.0)


def report(name: str, figures: dict[str, float], sqlite: float | None) -> None:
    stages = "  ".join(f"{k} {v:,.0f}/s" for k, v in figures.items() if k != "total")
    total = figures["total"]
    bound = f">= {TARGET:,.0f}: {'MET' if total >= TARGET else 'MISSED'}"
    if sqlite:
        share = total / sqlite
        met = "MET" if share >= TARGET_SHARE else "MISSED"
        bound += f"; {share:.0%} of SQLite (>= {TARGET_SHARE:.0%}): {met}"
    print(f"{name:<22} {total:>7,.0f} events/s   ({stages})   {bound}")


def postgres(args: argparse.Namespace, sqlite_total: float) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS syncd_bench WITH (FORCE)")
        conn.exec_driver_sql("CREATE DATABASE syncd_bench")
    url = sa.engine.make_url(args.pg_url).set(database="syncd_bench")
    url_text = url.render_as_string(hide_password=False)
    store = Store.open(url_text)
    try:
        report("PostgreSQL fresh", fresh(store, args.events), sqlite_total)
        analyze(store)
        report("PostgreSQL analyzed", measure(store, args.events, args.events), sqlite_total)
        store.truncate_all()
        t0 = time.perf_counter()
        retain_applied(store, args.retained)
        analyze(store)
        print(f"  ({args.retained:,} applied objects retained in {time.perf_counter() - t0:.0f} s)")
        label = f"PostgreSQL {args.retained // 1000:,}k kept"
        report(label, measure(store, args.events, args.retained + 1), sqlite_total)
        if args.instances:
            one, one_busy = instances(store, url_text, args.events, 1)
            two, two_busy = instances(store, url_text, args.events, 2)
            met = "MET" if two >= TARGET_TWO * one else "MISSED"
            print(
                f"PostgreSQL instances   one {one:,.0f} events/s (cores {one_busy:.0%} busy), "
                f"two {two:,.0f} events/s (cores {two_busy:.0%} busy): "
                f"{two / one:.2f}x (>= {TARGET_TWO}x: {met})"
            )
    finally:
        store.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql("DROP DATABASE IF EXISTS syncd_bench WITH (FORCE)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--retained", type=int, default=1_000_000)
    parser.add_argument("--no-instances", dest="instances", action="store_false")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "SYNCD_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    print(f"engine throughput: {args.events:,} events, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/bench.db")
        sqlite_figures = fresh(store, args.events)
        store.dispose()
    report("SQLite fresh", sqlite_figures, None)
    try:
        postgres(args, sqlite_figures["total"])
    except Exception as exc:  # noqa: BLE001 - PostgreSQL may be down where this runs
        print(f"PostgreSQL  not measured: {type(exc).__name__}: {exc}")
    return 0 if sqlite_figures["total"] >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
