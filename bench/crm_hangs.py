#!/usr/bin/env python3
"""Orders through the CRM sink with a share of CRM requests hanging, against the same run without.

    .venv/bin/python bench/crm_hangs.py [--orders 300] [--hang 0.02] [--hang-then apply]
        [--hang-seconds 60] [--read 8 --write 10 --upload 20 --connect 3]
        [--deadline 30] [--concurrency 8] [--rps 10]

Each order is what the order flow asks of the CRM: its customer linked
(``link_or_create``: bound, or found by phone, or uploaded), the order
uploaded, then its status edited — all queued in a store's outbox and applied
by two sink workers (the daemon's default share of ``engine.sink_workers``)
through ``apply_claims``, with the engine's retry policy, as the daemon does.
The sandbox CRM runs on loopback at RetailCRM's 10 requests/s.

Two runs: no faults, then ``--hang`` of the requests hanging ``--hang-seconds``
(longer than any timeout) and then applied late (``--hang-then apply``) or
never (``drop``).  Both end when the outbox is empty and the CRM holds every
order exactly once, at its final status.  Target (issue 13, case 6): the run
with hangs converges within **2x** the fault-free time, with no dead letter.

For a chaos harness: ``run(Setup(orders=…, hang=…, timeouts={…}))`` returns
the figures of one run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402

from syncd.config import load_settings  # noqa: E402
from syncd.engine.applying import apply_claims, claim_for  # noqa: E402
from syncd.engine.contracts import PartContext  # noqa: E402
from syncd.engine.pipeline import build_pipeline  # noqa: E402
from syncd.engine.retry import RetryPolicy  # noqa: E402
from syncd.metrics import Metrics  # noqa: E402
from syncd.model import Command  # noqa: E402
from syncd.store import Store, outbox  # noqa: E402
from syncd.web import HttpServer  # noqa: E402
from syncd_sandbox.crm_app import SandboxCrm  # noqa: E402
from syncd_sandbox.crm_faults import Faults  # noqa: E402

KEY = "bench-hangs-key-000000000"
SINK_WORKERS = 2  # engine.sink_workers 4, shared by the CRM and the 1C sink


@dataclass
class Setup:
    orders: int = 300
    hang: float = 0.0
    hang_seconds: float = 60.0
    hang_then: str = "apply"
    timeouts: dict = field(default_factory=dict)  # crm.timeouts
    deadline: float = 30.0
    concurrency: int = 8
    rps: float = 10.0
    seed: int = 13


@dataclass
class Figures:
    seconds: float
    calls: int
    hangs: int
    outcomes: dict
    converged: bool
    problems: list[str]


def workload(n: int) -> list[Command]:
    """Per order: link its customer, upload it, then move it to "assembling"."""
    commands: list[Command] = []
    for i in range(n):
        partner = f"partner-{i:05d}"
        phone = f"+7912{i:07d}"
        customer = {"externalId": partner, "firstName": "Покупатель", "phones": [{"number": phone}]}
        link = {"customer": customer, "match": {"phones": [phone]}}
        commands.append(Command("crm", "customer", partner, "link_or_create", link, f"l{i}"))
    for i in range(n):
        payload = {  # no customer named: which of the two is written first stays open
            "firstName": "Покупатель",
            "status": "new",
            "items": [{"productName": "Товар", "quantity": 1, "initialPrice": 990}],
        }
        commands.append(Command("crm", "order", f"ERP-{i:05d}", "upsert", payload, f"u{i}"))
    for i in range(n):
        edit = {"status": "assembling"}
        commands.append(Command("crm", "order", f"ERP-{i:05d}", "edit", edit, f"e{i}"))
    return commands


def run(setup: Setup) -> Figures:
    app = SandboxCrm([KEY], requests_per_second=setup.rps)
    app.faults = Faults(
        timeout=setup.hang,
        timeout_seconds=setup.hang_seconds,
        hang_then="drop" if setup.hang_then == "drop" else "apply",
        seed=setup.seed,
    )
    server = HttpServer(app, "127.0.0.1:0", threads=64)
    server.start()
    url = f"http://127.0.0.1:{server.port}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sink, policy, store = _syncd(Path(tmp), url, setup)
            with store.begin() as conn:
                outbox.enqueue(conn, workload(setup.orders))
            outcomes: dict[str, int] = {}
            t0 = time.perf_counter()
            _drain(store, sink, policy, outcomes)
            seconds = time.perf_counter() - t0
            calls = sink.client.t.calls
            sink.close()
            store.dispose()
    finally:
        app.faults.release_all()
        server.stop()
    problems = _check(app, setup.orders)
    return Figures(seconds, calls, app.faults.injected, outcomes, not problems, problems)


def _syncd(tmp: Path, url: str, setup: Setup) -> tuple:
    config = tmp / "bench.yaml"
    options = {
        "requests_per_second": setup.rps,
        "round_deadline_seconds": setup.deadline,
        "concurrency": setup.concurrency,
    }
    config.write_text(
        yaml.safe_dump(
            {
                "state_dir": str(tmp),
                "crm": {"timeouts": setup.timeouts},
                "sinks": {"crm": {"kind": "retailcrm", "system": "crm", "options": options}},
            }
        )
    )
    env = {"SYNCD_CRM_URL": url, "SYNCD_CRM_API_KEY": KEY, "SYNCD_CRM_SITE": "main"}
    settings = load_settings(config, env)
    sink = build_pipeline(settings, PartContext(settings, Metrics())).sinks["crm"]
    store = Store.open(f"sqlite:///{tmp}/bench.db")
    store.upgrade()
    return sink, RetryPolicy.from_settings(settings.engine.retry), store


def _drain(store: Store, sink, policy: RetryPolicy, outcomes: dict) -> None:  # noqa: ANN001
    """Sink workers claim and apply until nothing is left unfinished, as the daemon does."""
    lock = threading.Lock()

    def worker(name: str) -> None:
        while True:
            claims = claim_for(store, sink, name, 300)
            if not claims:
                with store.read() as conn:
                    left = outbox.counts(conn)
                if not left.get("pending") and not left.get("running"):
                    return
                time.sleep(0.05)  # a retry's backoff, or the other worker's batch
                continue
            round_ = apply_claims(store, sink, claims, policy)
            with lock:
                for outcome in ("applied", "retried", "dead", "superseded", "deferred"):
                    outcomes[outcome] = outcomes.get(outcome, 0) + getattr(round_, outcome)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(SINK_WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _check(app: SandboxCrm, n: int) -> list[str]:
    """Every order in the CRM exactly once, at its final status; no duplicate customer."""
    orders = list(app.state.records["order"].values())
    problems = []
    by_ext: dict[str, int] = {}
    for o in orders:
        by_ext[o.get("externalId")] = by_ext.get(o.get("externalId"), 0) + 1
    if len(by_ext) != n or any(count > 1 for count in by_ext.values()):
        problems.append(f"{len(orders)} orders for {n} ({len(by_ext)} distinct externalIds)")
    behind = [o["externalId"] for o in orders if o["status"] != "assembling"]
    if behind:
        problems.append(f"{len(behind)} orders not at their final status, e.g. {behind[0]}")
    partners = [
        c["externalId"] for c in app.state.records["customer"].values() if c.get("externalId")
    ]
    if len(partners) != n or len(set(partners)) != n:
        problems.append(f"{len(partners)} linked customers for {n} partners")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--hang", type=float, default=0.02, help="share of requests that hang")
    parser.add_argument("--hang-seconds", type=float, default=60.0)
    parser.add_argument("--hang-then", choices=["apply", "drop"], default="apply")
    for kind, default in (("connect", 3.0), ("read", 8.0), ("write", 10.0), ("upload", 20.0)):
        parser.add_argument(f"--{kind}", type=float, default=default, help=f"{kind}_seconds")
    parser.add_argument("--deadline", type=float, default=30.0, help="round_deadline_seconds")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rps", type=float, default=10.0)
    args = parser.parse_args()
    timeouts = {f"{k}_seconds": getattr(args, k) for k in ("connect", "read", "write", "upload")}
    base = Setup(
        orders=args.orders,
        timeouts=timeouts,
        deadline=args.deadline,
        concurrency=args.concurrency,
        rps=args.rps,
    )
    calm = run(base)
    _print("no faults", args.orders, calm)
    stormy = Setup(**{**base.__dict__, "hang": args.hang})
    stormy.hang_seconds, stormy.hang_then = args.hang_seconds, args.hang_then
    hung = run(stormy)
    _print(
        f"{args.hang:.0%} hang ({args.hang_seconds:g} s, then {args.hang_then})", args.orders, hung
    )
    bound = 2 * calm.seconds
    ok = calm.converged and hung.converged and hung.seconds <= bound
    ok = ok and not hung.outcomes.get("dead") and not calm.outcomes.get("dead")
    print(
        f"with hangs {hung.seconds:.1f} s vs bound {bound:.1f} s (2 x {calm.seconds:.1f} s "
        f"fault-free), ratio {hung.seconds / calm.seconds:.2f}: {'MET' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


def _print(label: str, n: int, f: Figures) -> None:
    said = ", ".join(f"{k} {v}" for k, v in sorted(f.outcomes.items()) if v)
    state = "converged" if f.converged else "NOT converged: " + "; ".join(f.problems)
    print(
        f"{label}: {n} orders ({3 * n} commands) in {f.seconds:.1f} s, {f.calls} API calls, "
        f"{f.hangs} hung; results: {said}; {state}"
    )


if __name__ == "__main__":
    sys.exit(main())
