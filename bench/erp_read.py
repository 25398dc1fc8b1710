#!/usr/bin/env python3
"""Orders per second read from the sandbox 1C, and the peak of concurrent requests vs the cap.

    .venv/bin/python bench/erp_read.py [--orders 3000] [--cap 2] [--readers 6]

The sandbox 1C is served on loopback with 16 server threads and a small
answer delay (``--latency``, as a loaded ERP answers), so that the only thing
holding requests back is syncd's own cap.  ``--readers`` threads share one
OData client (as every stream of the daemon shares one per base), each
paging through the orders by the full key with their tabular sections.
Printed: orders read per second, requests made, and the peak number of
requests the sandbox saw in flight at once beside the cap (``erp.max_concurrency``).
Target: the peak never exceeds the cap (exit code 1 if it does).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from syncd.connectors.onec.odata import ODataClient  # noqa: E402
from syncd.connectors.onec.values import eq  # noqa: E402
from syncd.web import HttpServer  # noqa: E402
from syncd_sandbox.erp_app import PREFIX, SandboxErp  # noqa: E402

ORDERS = "Document_ЗаказКлиента"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--cap", type=int, default=2, help="erp.max_concurrency (default 2)")
    parser.add_argument("--rate", type=float, default=1000.0, help="erp.requests_per_second")
    parser.add_argument("--readers", type=int, default=6, help="threads sharing the client")
    parser.add_argument("--page", type=int, default=100, help="entries per page")
    parser.add_argument("--latency", type=float, default=0.01, help="seconds per answer")
    args = parser.parse_args()

    app = SandboxErp(user="Обмен", password="bench", slow_seconds=args.latency)
    app.trade.seed(customers=200, items=50, orders=args.orders, seed=3)
    server = HttpServer(app, "127.0.0.1:0", threads=16)
    server.start()
    url = f"http://127.0.0.1:{server.port}{PREFIX}"
    client = ODataClient(
        url, "Обмен", "bench", max_concurrency=args.cap, per_second=args.rate, page_size=args.page
    )
    meta = client.metadata()
    app.reset_counters()
    counts = [0] * args.readers
    errors: list[str] = []

    def read(i: int) -> None:
        try:
            for _ in client.entities(ORDERS, meta, filter=eq("Posted", True)):
                counts[i] += 1
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=read, args=(i,)) for i in range(args.readers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    server.stop()

    total = sum(counts)
    print(f"orders in the sandbox      {args.orders}")
    print(f"readers (threads)          {args.readers}, page {args.page}, latency {args.latency}s")
    print(f"orders read                {total} in {seconds:.2f} s")
    print(f"orders/s                   {total / seconds:,.0f}")
    print(f"requests                   {len(app.requests)}")
    print(f"peak concurrent requests   {app.peak} (cap {args.cap})")
    ok = app.peak <= args.cap and not errors and total == args.orders * args.readers
    for error in errors[:3]:
        print(f"error                      {error}")
    print("RESULT                     " + ("MET: peak <= cap" if ok else "NOT MET"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
