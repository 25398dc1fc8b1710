#!/usr/bin/env python3
"""Events per second through inbox → flow → outbox → sink, on SQLite and PostgreSQL.

    .venv/bin/python bench/engine_throughput.py [--events 50000] [--pg-url URL]

A synthetic source yields N changes of N distinct objects; the copy flow
plans them; an in-memory sink applies them.  The three stages run one after
the other in this process, through the real store code, and the figure is
N divided by the wall time of all three.  Target: >= 5,000 events/s on
SQLite on 2 cores.  PostgreSQL is measured when it is reachable.
"""

from __future__ import annotations

import argparse
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

TARGET_SQLITE = 5000.0
PAGE = 500


class SyntheticSource(Source):
    kind = "bench_synthetic"

    def __init__(self, total: int) -> None:
        super().__init__("bench", "erp", None, PartContext(None, None))  # type: ignore[arg-type]
        self.total = total

    def poll(self, cursor):  # noqa: ANN001, ANN201
        start = int(cursor or 0)
        now = time.time()
        for first in range(start, self.total, PAGE):
            last = min(first + PAGE, self.total)
            events = [
                Event(
                    "erp",
                    "order",
                    f"ORD-{i:08d}",
                    "1",
                    {
                        "number": i,
                        "total": i * 1.5,
                        "status": "new",
                        "lines": [{"sku": "A", "qty": 1}],
                    },
                    changed_at=now,
                )
                for i in range(first, last)
            ]
            yield SourceBatch(events, last)


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


def measure(store: Store, total: int) -> dict[str, float]:
    store.upgrade()
    store.truncate_all()
    source = SyntheticSource(total)
    sink = MemorySink()
    flow = CopyFlow("orders", "erp", [], "crm", CopyOptions(), PartContext(None, None))
    pipeline = Pipeline({"bench": source}, [flow], {"crm": sink})
    with store.begin() as conn:
        src_lease = leases.acquire(conn, "source:bench", "bench", ttl=3600)
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


def report(name: str, figures: dict[str, float], target: float | None) -> None:
    stages = "  ".join(f"{k} {v:,.0f}/s" for k, v in figures.items() if k != "total")
    bound = (
        f"target >= {target:,.0f} events/s: {'MET' if figures['total'] >= target else 'MISSED'}"
        if target
        else "no target (production store, reported for comparison)"
    )
    print(f"{name:<11} {figures['total']:>9,.0f} events/s end to end   ({stages})   {bound}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
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
        sqlite_figures = measure(store, args.events)
        store.dispose()
    report("SQLite", sqlite_figures, TARGET_SQLITE)
    try:
        import sqlalchemy as sa

        admin = sa.create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql("DROP DATABASE IF EXISTS syncd_bench WITH (FORCE)")
            conn.exec_driver_sql("CREATE DATABASE syncd_bench")
        url = sa.engine.make_url(args.pg_url).set(database="syncd_bench")
        store = Store.open(url.render_as_string(hide_password=False))
        report("PostgreSQL", measure(store, args.events), None)
        store.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql("DROP DATABASE IF EXISTS syncd_bench WITH (FORCE)")
    except Exception as exc:  # PostgreSQL is optional for the benchmark
        print(f"PostgreSQL  not measured: {type(exc).__name__}: {exc}")
    return 0 if sqlite_figures["total"] >= TARGET_SQLITE else 1


if __name__ == "__main__":
    sys.exit(main())
