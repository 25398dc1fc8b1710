#!/usr/bin/env python3
"""Order robot decisions per second: 10,000 orders against 100,000 stock rows in the store.

    .venv/bin/python bench/robot.py [--orders 10000] [--stock-rows 100000] [--batch 100]
        [--store sqlite|postgresql] [--offers 25000]

The store (a fresh SQLite file, or a fresh PostgreSQL database
``syncd_bench_robot_<pid>`` on SYNCD_BENCH_PG_URL, dropped after) is filled
with ``--stock-rows`` free-stock rows (10,000 offers in 10 stores).  The orders
are CRM order bodies in the API's real shape (payments keyed by id, 1-5 lines
each, a shipment store on most), a quarter of them failing one condition or
another.  Timed: per batch of ``--batch`` orders, one read of the stock of
their offers from the store and the robot's decision for each (the order body
read, the five conditions).  Printed: decisions per second against the target
(>= 2,000/s on SQLite, 2 cores), and how many were agreed.

Then the other half of the issue's figure: the inventory push rate of
``--offers`` offers into the sandbox CRM at its 10 requests/s
(bench/inventory.py, which also runs on its own; target >= 90 % of
250 offers x 10/s).  ``--offers 0`` leaves it out.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.inventory import push_rate  # noqa: E402
from bench.pg_databases import drop_database, fresh_database  # noqa: E402
from syncd.flows.order_robot import StockRows, decide  # noqa: E402
from syncd.flows.robot_order import RobotOrder  # noqa: E402
from syncd.mappings.robot import RobotMapping  # noqa: E402
from syncd.store import Store, stock  # noqa: E402

TARGET = 2000.0  # decisions per second on SQLite
STORES = [f"store-{i:02d}" for i in range(10)]


def order_body(rng: random.Random, i: int, offers: int) -> dict:
    lines = [
        {
            "id": i * 10 + n,
            "quantity": rng.randint(1, 3),
            "initialPrice": 500,
            "offer": {"id": n, "externalId": f"nom-{rng.randrange(offers):05d}"},
        }
        for n in range(rng.randint(1, 5))
    ]
    total = 500 * sum(line["quantity"] for line in lines)
    body = {
        "id": i,
        "status": "new",
        "site": "online-shop",
        "totalSumm": total,
        "payments": {str(i): {"id": i, "status": "paid", "amount": total}},
        "delivery": {"code": "courier", "address": {"text": "Москва, ул. Примерная, д. 3"}},
        "items": lines,
        "customFields": [],
    }
    if rng.random() < 0.8:
        body["shipmentStore"] = rng.choice(STORES)
    if rng.random() < 0.1:
        body["customerComment"] = "позвоните"
    if rng.random() < 0.1:
        body["payments"] = {}
    return body


def open_store(kind: str, folder: Path) -> tuple[Store, str | None]:
    name = None if kind == "sqlite" else f"syncd_bench_robot_{os.getpid()}"
    store = Store.open(fresh_database(name) if name else f"sqlite:///{folder / 'syncd.db'}")
    store.upgrade()
    return store, name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--stock-rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--offers", type=int, default=25_000, help="inventory push; 0: none")
    args = parser.parse_args()
    rng = random.Random(7)
    offers = max(1, args.stock_rows // len(STORES))
    rules = RobotMapping.model_validate({"outcomes": {"needs_agreement": "requires-agreement"}})
    with tempfile.TemporaryDirectory() as tmp:
        store, pg_name = open_store(args.store, Path(tmp))
        try:
            rows = [
                (f"nom-{o:05d}", s, Decimal(rng.randint(0, 20)))
                for o in range(offers)
                for s in STORES
            ][: args.stock_rows]
            with store.begin() as conn:
                stock.put(conn, rows, now=time.time())
            bodies = [order_body(rng, i, offers) for i in range(args.orders)]
            agreed = 0
            started = time.perf_counter()
            for at in range(0, len(bodies), args.batch):
                orders = [RobotOrder.from_crm(b) for b in bodies[at : at + args.batch]]
                wanted = {line.offer for o in orders for line in o.lines if line.offer}
                with store.read() as conn:
                    known = StockRows(stock.rows_of(conn, wanted))
                agreed += sum(decide(rules, o, known).outcome == "agree" for o in orders)
            took = time.perf_counter() - started
        finally:
            store.dispose()
            if pg_name:
                drop_database(pg_name)
    rate = args.orders / took
    print(
        f"{args.store}: {args.orders:,} orders against {len(rows):,} stock rows in {took:.2f} s: "
        f"{rate:,.0f} decisions/s ({agreed:,} agreed)"
    )
    bound = f"target >= {TARGET:,.0f}/s on SQLite"
    met = True
    if args.store == "sqlite":
        met = rate >= TARGET
        print(f"  {bound}: {'MET' if met else 'NOT MET'}")
    else:
        print(f"  ({bound}; no target on PostgreSQL)")
    if args.offers:
        met = push_rate(args.offers) and met
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
