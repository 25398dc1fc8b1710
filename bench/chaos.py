"""Chaos: orders both ways through injected faults, hangs and kill -9s; lost, duplicated, wrong.

    .venv/bin/python bench/chaos.py [--orders 2000] [--kills 25] [--faults 0.2] [--hangs 0.02]
                                    [--store sqlite|postgresql] [--no-baseline]

Runs the same shop twice — once with no faults and no kills (the baseline),
once with the trouble asked for — and prints, for the second: orders, kills,
faults injected, lost, duplicated, wrong, dead letters and the time to
converge, with the bounds: 0 lost, 0 duplicated, 0 wrong, and converged within
2x the fault-free time.  PostgreSQL: a fresh database on the local server
(SYNCD_BENCH_PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres).
Exits 1 when a bound is missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pg_databases import drop_database, fresh_database  # noqa: E402
from syncd_sandbox.demo.chaos import ChaosPlan, run_chaos  # noqa: E402


def fresh_store(kind: str) -> tuple[str | None, str | None]:
    if kind == "sqlite":
        return None, None
    name = f"syncd_chaos_{uuid.uuid4().hex[:8]}"
    return fresh_database(name), name


def one_run(plan: ChaosPlan, store: str, title: str, keep: Path | None):  # noqa: ANN201
    url, name = fresh_store(store)
    try:
        with tempfile.TemporaryDirectory(prefix="syncd-chaos-") as tmp:
            folder = (keep / title.split(":")[0]) if keep else Path(tmp)
            print(f"\n== {title} ({store}){f' in {folder}' if keep else ''}", flush=True)
            report = run_chaos(replace(plan, store_url=url), folder, echo=print)
            for line in report.lines():
                print(line, flush=True)
            return report
    finally:
        if name:
            drop_database(name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=25)
    parser.add_argument("--faults", type=float, default=0.2)
    parser.add_argument("--hangs", type=float, default=0.02)
    parser.add_argument("--hang-seconds", type=float, default=15.0)
    parser.add_argument("--rate", type=float, default=5.0, help="new orders per second")
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep each run's config, log and store here")
    args = parser.parse_args()
    plan = ChaosPlan(
        orders=args.orders,
        kills=args.kills,
        faults=args.faults,
        hangs=args.hangs,
        hang_seconds=args.hang_seconds,
        rate=args.rate,
        seed=args.seed,
    )
    baseline = None
    if not args.no_baseline:
        calm = replace(plan, kills=0, faults=0.0, hangs=0.0)
        baseline = one_run(calm, args.store, "baseline: no faults, no kills", args.keep)
    chaos = one_run(plan, args.store, "chaos", args.keep)
    ok = chaos.clean
    print("\n== bounds")
    print(
        f"lost {len(chaos.lost)} (bound 0), duplicated {len(chaos.duplicated)} (bound 0), "
        f"wrong {len(chaos.wrong)} (bound 0)"
    )
    if baseline is not None and baseline.converge_seconds and chaos.converge_seconds:
        ratio = chaos.converge_seconds / baseline.converge_seconds
        print(
            f"converged in {chaos.converge_seconds:.1f} s vs {baseline.converge_seconds:.1f} s "
            f"fault-free: {ratio:.2f}x (bound 2.00x)"
        )
        ok = ok and ratio <= 2.0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
