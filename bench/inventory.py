#!/usr/bin/env python3
"""Offers' stock per second through the inventory sink into the sandbox CRM at 10 requests/s.

    .venv/bin/python bench/inventory.py [--offers 25000]

The sandbox CRM is served on loopback with RetailCRM's limit (10 requests/s
per key, 503 above it) and a catalogue of ``--offers`` offers; the
retailcrm_inventory sink paces itself to the same limit and uploads 250
offers a call (store/inventories/upload), taking its claims' batches of
1,000 commands as the engine hands them.  The bound is 10 calls/s x 250 =
2,500 offers/s; the target (issue 16) is at least 90 % of it, 2,250 offers/s,
with zero 503s and no more than ceil(N/250) + 1 calls.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402

from syncd.config import load_settings  # noqa: E402
from syncd.engine.contracts import PartContext  # noqa: E402
from syncd.engine.pipeline import build_pipeline  # noqa: E402
from syncd.metrics import Metrics  # noqa: E402
from syncd.model import Command  # noqa: E402
from syncd.web import HttpServer  # noqa: E402
from syncd_sandbox.crm_app import SandboxCrm  # noqa: E402

KEY = "bench-key-0000000000"
RPS = 10
PER_CALL = 250
BOUND = RPS * PER_CALL
TARGET = 0.9 * BOUND


def push_rate(n: int) -> bool:
    """Push ``n`` offers' stock into a fresh sandbox CRM; print the figures; True when met."""
    app = SandboxCrm([KEY], requests_per_second=RPS)
    offers = [f"A-{i:06d}" for i in range(n)]
    app.inventories.add_offers(offers)
    server = HttpServer(app, "127.0.0.1:0")
    server.start()
    url = f"http://127.0.0.1:{server.port}"
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bench.yaml"
        sink_spec = {
            "kind": "retailcrm_inventory",
            "system": "crm",
            "options": {"requests_per_second": RPS},
        }
        config.write_text(yaml.safe_dump({"state_dir": tmp, "sinks": {"crm_stock": sink_spec}}))
        env = {"SYNCD_CRM_URL": url, "SYNCD_CRM_API_KEY": KEY, "SYNCD_CRM_SITE": "main"}
        settings = load_settings(config, env)
        sink = build_pipeline(settings, PartContext(settings, Metrics())).sinks["crm_stock"]
        commands = [
            Command(
                "crm_stock",
                "inventory",
                offer,
                "inventory",
                {
                    "stores": [
                        {"code": "main-store", "available": i % 50},
                        {"code": "pickup-point", "available": i % 7},
                    ]
                },
                f"bench:{i}",
                id=i + 1,
            )
            for i, offer in enumerate(offers)
        ]
        t0 = time.perf_counter()
        applied = 0
        for i in range(0, n, sink.batch_size):
            applied += sum(r.ok for r in sink.apply(commands[i : i + sink.batch_size]))
        elapsed = time.perf_counter() - t0
    server.stop()
    calls, throttled = sink.client.t.calls, app.throttled
    rate = applied / elapsed
    max_calls = math.ceil(n / PER_CALL) + 1
    shown = sum(1 for o in offers if app.inventories.available(o))
    ok = rate >= TARGET and throttled == 0 and calls <= max_calls and shown == applied == n
    print(
        f"inventory push: {applied:,}/{n:,} offers in {elapsed:.1f} s = {rate:,.0f} offers/s "
        f"(bound {BOUND:,} offers/s = {RPS} calls/s x {PER_CALL}; target >= {TARGET:,.0f})"
    )
    print(
        f"API calls {calls} (target <= {max_calls}), 503s received {throttled} (target 0), "
        f"offers with stock in the CRM {shown:,}: {'MET' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=25_000)
    return 0 if push_rate(parser.parse_args().offers) else 1


if __name__ == "__main__":
    sys.exit(main())
