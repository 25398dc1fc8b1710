#!/usr/bin/env python3
"""Orders per second through the CRM sink into the sandbox CRM, both at 10 requests/s.

    .venv/bin/python bench/crm_upload.py [--orders 20000]

The sandbox is served on loopback with RetailCRM's limit (10 requests/s per
key, 503 above it); the sink paces itself to the same limit and uploads 50
orders a call.  The bound is 10 calls/s x 50 = 500 orders/s.  Target: at
least 95 % of the bound, zero 503s, and no more than ceil(N/50) + 1 calls.
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
BOUND = RPS * 50


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    n = parser.parse_args().orders
    app = SandboxCrm([KEY], requests_per_second=RPS)
    server = HttpServer(app, "127.0.0.1:0")
    server.start()
    url = f"http://127.0.0.1:{server.port}"
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bench.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "state_dir": tmp,
                    "sinks": {
                        "crm": {
                            "kind": "retailcrm",
                            "system": "crm",
                            "options": {"requests_per_second": RPS},
                        }
                    },
                }
            )
        )
        settings = load_settings(
            config, {"SYNCD_CRM_URL": url, "SYNCD_CRM_API_KEY": KEY, "SYNCD_CRM_SITE": "main"}
        )
        sink = build_pipeline(settings, PartContext(settings, Metrics())).sinks["crm"]
        commands = [
            Command(
                "crm",
                "order",
                f"ERP-{i:06d}",
                "upsert",
                {
                    "firstName": "Покупатель",
                    "phone": f"+7912{i:07d}",
                    "status": "new",
                    "items": [{"productName": "Товар", "quantity": 1, "initialPrice": 990}],
                },
                f"bench:{i}",
                id=i + 1,
            )
            for i in range(n)
        ]
        t0 = time.perf_counter()
        applied = 0
        for i in range(0, n, sink.batch_size):
            applied += sum(r.ok for r in sink.apply(commands[i : i + sink.batch_size]))
        elapsed = time.perf_counter() - t0
    server.stop()
    calls, throttled = sink.client.t.calls, app.throttled
    rate = applied / elapsed
    max_calls = math.ceil(n / 50) + 1
    ok = rate >= 0.95 * BOUND and throttled == 0 and calls <= max_calls and applied == n
    print(
        f"crm upload: {applied:,}/{n:,} orders in {elapsed:.1f} s = {rate:,.0f} orders/s "
        f"(bound {BOUND} orders/s = {RPS} calls/s x 50; target >= {0.95 * BOUND:.0f})"
    )
    print(
        f"API calls {calls} (target <= {max_calls}), 503s received {throttled} (target 0): "
        f"{'MET' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
