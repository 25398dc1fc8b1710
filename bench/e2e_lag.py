#!/usr/bin/env python3
"""Lag from a change in 1C to the CRM, and from a change in the CRM to 1C, end to end.

    .venv/bin/python bench/e2e_lag.py [--changes 120] [--poll 2] [--mode both|webhooks|polling]

Both sandboxes on loopback and the daemon as its own process (``syncd run``)
on a configuration like the demo's.  After the initial load, changes are made
at a steady pace, alternating: a new site order in 1C (lag until the order is
in the CRM) and a manager agreeing an order in the CRM (lag until 1C has it
agreed and posted).  Lags are read by watching both sandboxes every 5 ms.

- webhooks: each change also nudges the daemon (1C's event subscription,
  RetailCRM's trigger); target **p99 < 1 s**;
- polling only: target **p99 < poll interval + 1 s**.

Beside each measured lag, the daemon's own ``syncd_apply_latency_seconds``
(its mean over the same changes, scraped from /metrics): target **within 5 s
of the measured mean** in both directions.  ``--crm-timezone`` runs the
sandbox CRM and syncd's ``crm.timezone`` in another account zone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from syncd_sandbox.demo.day import CRM_TO_ERP, ERP_TO_CRM, DayPlayer  # noqa: E402
from syncd_sandbox.demo.runner import Webhooks, latency_between, latency_metric  # noqa: E402
from syncd_sandbox.demo.world import World, without_robot  # noqa: E402

SECRET = "bench-webhook-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config_for(folder: Path, poll: float, port: int, crm_timezone: str) -> Path:
    config = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8"))
    config = without_robot(config)  # the shop agrees its orders itself
    config["state_dir"] = str(folder / "state")
    config["mappings_dir"] = str(ROOT / "mappings")
    config["http"] = {"listen": f"127.0.0.1:{port}", "webhook_secret": SECRET}
    config["engine"] = {"tick_seconds": 0.05}
    config["log"] = {"level": "WARNING", "format": "json"}
    config["crm"]["timezone"] = crm_timezone
    for source in config["sources"]:
        source["interval_seconds"] = poll
    path = folder / "syncd.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def watch(player: DayPlayer, seconds: float) -> None:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        player.observe()
        time.sleep(0.005)


def run(mode: str, changes: int, poll: float, pace: float, crm_timezone: str) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="syncd-lag-"))
    port = free_port()
    config = config_for(folder, poll, port, crm_timezone)
    world = World(customers=60, items=30, orders=40, seed=3, crm_timezone=crm_timezone)
    world.start()
    daemon = subprocess.Popen(
        [sys.executable, "-m", "cli", "run", "--config", str(config)],
        cwd=ROOT,
        env={**os.environ, **world.env()},
        stdout=(folder / "syncd.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    hooks = Webhooks(f"127.0.0.1:{port}", SECRET) if mode == "webhooks" else None
    player = DayPlayer(world, seed=11, notify=hooks.post if hooks else None, per_hour=1)
    try:
        player.expect_initial_orders()
        deadline = time.monotonic() + 120
        while not player.settled() and time.monotonic() < deadline:
            watch(player, 0.2)
        before = latency_metric(f"127.0.0.1:{port}")
        for i in range(changes):
            if i % 2 == 0:
                player.new_site_order()
            else:
                waiting = player.crm_orders_waiting()
                if waiting:
                    player.agree(waiting[0])
            watch(player, pace)
        deadline = time.monotonic() + poll * 3 + 30
        while not player.settled() and time.monotonic() < deadline:
            watch(player, 0.1)
        metric = latency_between(before, latency_metric(f"127.0.0.1:{port}"))
        return {**player.stats(), "metric": metric}
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
        world.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=120)
    parser.add_argument("--poll", type=float, default=2.0, help="streams' interval_seconds")
    parser.add_argument("--pace", type=float, default=0.4, help="seconds between changes")
    parser.add_argument("--mode", choices=["both", "webhooks", "polling"], default="both")
    parser.add_argument("--crm-timezone", default="Europe/Moscow", help="the account's zone")
    args = parser.parse_args()
    modes = ["webhooks", "polling"] if args.mode == "both" else [args.mode]
    ok = True
    print(
        f"{args.changes} changes, one every {args.pace} s; streams poll every {args.poll} s; "
        f"CRM account zone {args.crm_timezone} (this host: {time.strftime('%Z')})"
    )
    for mode in modes:
        stats = run(mode, args.changes, args.poll, args.pace, args.crm_timezone)
        bound = 1.0 if mode == "webhooks" else args.poll + 1.0
        for direction in (ERP_TO_CRM, CRM_TO_ERP):
            lag = stats["lag"][direction]
            p50, p99 = lag["p50"], lag["p99"]
            met = p99 is not None and p99 < bound
            ok = ok and met
            print(
                f"{mode:<9} {direction}  n={stats['synced'][direction]:<4} "
                f"p50 {p50 or float('nan'):.3f} s  p99 {p99 or float('nan'):.3f} s  "
                f"target p99 < {bound:.1f} s: {'MET' if met else 'NOT MET'}"
            )
            said = stats["metric"].get(direction)
            mean = lag["mean"]
            agrees = said is not None and mean is not None and abs(said["mean"] - mean) <= 5.0
            ok = ok and agrees
            print(
                f"{mode:<9} {direction}  metric mean "
                f"{said['mean'] if said else float('nan'):.3f} s over "
                f"{said['writes'] if said else 0} writes vs measured mean "
                f"{mean if mean is not None else float('nan'):.3f} s  "
                f"target within 5 s: {'MET' if agrees else 'NOT MET'}"
            )
        if stats["waiting"]:
            ok = False
            print(f"{mode:<9} {stats['waiting']} change(s) never arrived")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
