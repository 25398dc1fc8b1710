"""The floor under an order's CPU: what its HTTP traffic alone costs the daemon's process.

    .venv/bin/python bench/http_floor.py [--calls 3000] [--out-per-order 6] [--in-per-order 2.4]

An order's life in syncd is, on the wire, about 6 calls out (1C ~3.9: a read,
PATCH, Post and a re-read for the agreed status, and the feed's share; the
CRM ~2.1: the order's upload, its customer's figures, its statuses, the
history's share) and about 2.4 webhooks in (1C's and the CRM's nudges), as
``bench/soak.py`` counts them at the end of a run ("on the wire per order").  This
script measures, on this machine, the CPU those cost the daemon's process and
nothing else: no store, no planning, no parsing beyond the HTTP itself.

- out: syncd's own HTTP session (``syncd.connectors.http``), keep-alive, to a
  server in another process that answers each call with a ~1.5 KB JSON body
  (that server's CPU is not counted); GETs with a query and form POSTs, as the
  connectors send them; CPU of this process per call;
- in: syncd's web app on waitress (``syncd.web``), as the daemon serves it,
  in another process, taking authenticated JSON webhooks from one keep-alive
  session here; CPU of that process per webhook (its idle CPU measured first
  and taken off).

Printed: each figure per call, the floor per 1,000 orders (out x out-per-order
+ in x in-per-order) and the share of issue 14's bounds (8 s on SQLite, 10 s
on PostgreSQL per 1,000 orders) that HTTP alone takes on this machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from syncd.connectors.http import counted_session  # noqa: E402
from syncd_sandbox.demo.chaos import _free_port  # noqa: E402

BOUNDS = {"SQLite": 8.0, "PostgreSQL": 10.0}
SECRET = "floor-secret"

UPSTREAM = """
import json, sys
from waitress import serve
BODY = json.dumps({"success": True, "order": {"id": 1, "externalId": "x" * 36,
    "items": [{"offer": {"externalId": "o%d" % i}, "quantity": 1, "initialPrice": 100.0}
              for i in range(12)], "status": "new", "customFields": []}},
    ensure_ascii=False).encode()
def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(BODY)))])
    return [BODY]
serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=4, _quiet=True)
"""

WEBHOOKS = """
import sys, threading
from syncd.web import HttpServer, WebApp
app = WebApp(registry=None, readiness=lambda: (True, {}), webhook_secret=lambda: sys.argv[2])
app.add_webhook("/webhooks/1c", lambda request: (202, {"accepted": True}))
server = HttpServer(app, "127.0.0.1:" + sys.argv[1])
server.start()
threading.Event().wait()
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(script: str, *args: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(port), *args], cwd=ROOT, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            requests.get(base + "/healthz", timeout=1)
            return proc, base
        except requests.RequestException:
            time.sleep(0.05)  # the server starting: poll its port with a deadline
    proc.kill()
    raise SystemExit(f"the server on {base} did not start")


def out_cost(calls: int) -> float:
    """CPU seconds of this process per call out, through syncd's session."""
    proc, base = start(UPSTREAM)
    try:
        session = counted_session("crm", None)
        session.headers["X-API-KEY"] = "k"
        form = {"order": '{"externalId":"A-1","status":"client-confirmed"}', "site": "main"}

        def one(i: int) -> None:
            if i % 2:
                session.get(f"{base}/api/v5/orders?filter%5Bids%5D%5B%5D={i}&limit=20", timeout=5)
            else:
                session.post(f"{base}/api/v5/orders/A-{i}/edit", data=form, timeout=5)

        for i in range(50):
            one(i)
        started = time.process_time()
        for i in range(calls):
            one(i)
        return (time.process_time() - started) / calls
    finally:
        proc.kill()


def in_cost(calls: int) -> float:
    """CPU seconds of the web app's process per webhook taken."""
    proc, base = start(WEBHOOKS, SECRET)
    try:
        session = requests.Session()
        body = {"event": "changed", "type": "Документ.ЗаказКлиента", "ref": "x" * 36}
        headers = {"X-Syncd-Token": SECRET}
        for _ in range(50):
            session.post(f"{base}/webhooks/1c", json=body, headers=headers, timeout=5)
        idle_from = cpu_seconds(proc.pid)
        time.sleep(2.0)  # what the server burns doing nothing, taken off below
        idle_rate = (cpu_seconds(proc.pid) - idle_from) / 2.0
        started, wall = cpu_seconds(proc.pid), time.monotonic()
        for _ in range(calls):
            answer = session.post(f"{base}/webhooks/1c", json=body, headers=headers, timeout=5)
            if answer.status_code != 202:
                raise SystemExit(f"the webhook was refused: {answer.status_code}")
        used = cpu_seconds(proc.pid) - started - idle_rate * (time.monotonic() - wall)
        return max(used, 0.0) / calls
    finally:
        proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--out-per-order", type=float, default=6.0)
    parser.add_argument("--in-per-order", type=float, default=2.4)
    args = parser.parse_args()
    out = out_cost(args.calls)
    inward = in_cost(args.calls)
    floor = out * args.out_per_order + inward * args.in_per_order
    print(f"a call out (syncd's session, keep-alive):  {out * 1e6:,.0f} us of CPU")
    print(f"a webhook in (syncd's web app, waitress):  {inward * 1e6:,.0f} us of CPU")
    print(
        f"per 1,000 orders ({args.out_per_order:g} out + {args.in_per_order:g} in each): "
        f"{floor * 1000:.2f} s of CPU for HTTP alone"
    )
    for store, bound in BOUNDS.items():
        print(f"  {store:<10} bound {bound:.0f} s: HTTP alone takes {floor * 1000 / bound:.0%}")


if __name__ == "__main__":
    main()
