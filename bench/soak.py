"""Soak: orders at a steady pace through the daemon for a long while; does it level off?

    .venv/bin/python bench/soak.py [--orders 2000] [--rate 5] [--store sqlite|postgresql]
        [--retention-days 1] [--clock-days-per-1000 1] [--no-retention] [--keep DIR]
        [--seed 1] [--long] [--no-bounds]

Both sandboxes run in this process; the daemon runs as its own process
(``syncd run``), on a config like the demo's.  The chaos harness's shop, with no
faults and no kills, creates site orders in 1C at ``--rate`` a second, agrees or
cancels them in the CRM and ships most agreed ones in 1C.  Every second the
daemon's RSS and CPU (from /proc, the sandboxes excluded), the store's size and,
on PostgreSQL, each table's dead-tuple ratio are sampled.  Printed per 1,000
orders done (an order is done when its whole life is seen on both sides): CPU
for those orders, RSS, store bytes, bytes per order and the p99 lag from an
order's creation in 1C to its arrival in the CRM; at the end the trends over the
second half and each figure beside the issue's bound (exit 1 on a miss unless
``--no-bounds``).  ``--long``: 50,000 orders (42 minutes at ``--rate 20``).

The rate: the shop and both sandboxes create thousands of orders a second; the
daemon is the limit.  On 2 shared cores it keeps up with 20 a second for 50,000
orders (in flight ~50 orders, lag p99 ~1.3 s), with another soak running beside
it, and with 30 a second for a few thousand.  The sandboxes run in this process,
so their cost per request must not grow with the orders they hold (the CRM's
look-up by externalId and its history after an id do not).

Retention and the clock: the daemon's config gets ``retention:`` (every kind
kept ``--retention-days``, pruned every 5 s) when this syncd accepts it, and
the daemon is given ``SYNCD_CLOCK_OFFSET_FILE``: a file holding the seconds
``syncd.clock.now()`` adds to the real time, which only retention's cutoffs
read.  The clock runs, as retention sees it, ``--clock-days-per-1000`` days per
1,000 orders: the window holds the latest 1,000 x retention-days /
clock-days-per-1000 orders (1,000 by default).  Rows carry real times, so the
file holds retention-days minus the real seconds since the oldest order of the
window was created: the cutoff, ``now() - retention-days``, falls on that
order's creation (0 until the window is full).

PostgreSQL: a fresh database ``syncd_soak_<pid>`` on the local server
(SYNCD_BENCH_PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres),
dropped at the end unless --keep.  Bytes are decimal (1 KB = 1,000 bytes).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
import yaml  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from bench.pg_databases import drop_database, fresh_database  # noqa: E402
from syncd.config import load_settings  # noqa: E402
from syncd.config_errors import ConfigError  # noqa: E402
from syncd_sandbox.demo import soak, soak_report  # noqa: E402
from syncd_sandbox.demo.chaos import SECRET, Daemon, _free_port  # noqa: E402
from syncd_sandbox.demo.day import ORDERS, percentile  # noqa: E402
from syncd_sandbox.demo.runner import Webhooks  # noqa: E402
from syncd_sandbox.demo.world import World, without_robot  # noqa: E402

SETTLE_SECONDS = 300.0  # after the last order is created, for the last lives to end


def write_config(
    folder: Path, listen: str, node: str, store_url: str | None, retention: dict | None
) -> Path:
    config = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8"))
    config = without_robot(config)  # the shop agrees its orders itself
    config["state_dir"] = str(folder / "state")
    config["mappings_dir"] = str(ROOT / "mappings")
    config["http"] = {"listen": listen, "webhook_secret": SECRET}
    config["erp"] = {"requests_per_second": 200, "max_concurrency": 4, "timezone": "Europe/Moscow"}
    config["sources"][0]["options"]["node"] = node
    config["log"] = {"level": "WARNING", "format": "json"}
    if store_url:
        config["store"] = {"url": store_url}
    if retention:
        config["retention"] = retention
    path = folder / "soak.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def accepts_retention(path: Path, env: dict) -> bool:
    """Whether this syncd takes the config's ``retention:`` section (other problems raise)."""
    try:
        load_settings(path, env=env)
    except ConfigError as exc:
        if any(p.key.split(".")[0] == "retention" for p in exc.problems):
            return False
        raise
    return True


def set_offset(path: Path, seconds: float) -> None:
    """The clock offset, replaced whole: the daemon never reads half a number."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{seconds:.3f}\n")
    os.replace(tmp, path)


class Store:
    """The store's figures: SQLite from its files, PostgreSQL from its statistics."""

    def __init__(self, kind: str, folder: Path, url: str | None) -> None:
        self.kind, self.db, self.conn = kind, folder / "state" / "syncd.db", None
        if url:
            import psycopg

            conninfo = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(False)
            self.conn = psycopg.connect(conninfo, autocommit=True)

    def figures(self) -> dict:
        if self.conn is None:
            size, wal, live = soak.sqlite_store_bytes(self.db)
            return {"store": size, "wal": wal, "live": live}
        size, tuples = soak.pg_store_figures(self.conn)
        return {"store": size, "tuples": tuples}

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def wait_ready(daemon: Daemon, listen: str, world: World, timeout: float = 90.0) -> None:
    """Until /readyz says ready and 1C's exchange node has nothing pending (the initial
    load of the sample customers and goods is not the soak's)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon.proc is None or daemon.proc.poll() is not None:
            raise SystemExit(f"the daemon exited while starting; see {daemon.log}")
        try:
            ready = requests.get(f"http://{listen}/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            ready = False
        if ready and world.erp.trade.plan.pending(world.erp.node) == 0:
            time.sleep(2)  # the last of the initial writes
            return
        time.sleep(0.5)
    raise SystemExit(f"the daemon was not ready within {timeout:.0f} s; see {daemon.log}")


def drive(args: argparse.Namespace, folder: Path, url: str | None) -> tuple[list, list, float]:
    """The run: (samples, lags in the order lives were done, CPU at the first order)."""
    world = World(customers=300, items=100, orders=0, seed=args.seed)
    world.start(threads=16)
    listen = f"127.0.0.1:{_free_port()}"
    offset_file = folder / "clock-offset"
    set_offset(offset_file, 0.0)
    days = args.retention_days
    retention = None
    if not args.no_retention:
        kinds = ("events", "commands", "dead_letters", "conflicts")
        retention = {**{f"{k}_days": days for k in kinds}, "every_seconds": 5}
    config = write_config(folder, listen, world.erp.node, url, retention)
    env = {**world.env(), "SYNCD_CLOCK_OFFSET_FILE": str(offset_file)}
    if retention and not accepts_retention(config, env):
        print("retention: not supported by this syncd (no retention section)")
        retention, config = None, write_config(folder, listen, world.erp.node, url, None)
    elif retention:
        print(f"retention: {days:g} day(s) for events, commands, dead letters, conflicts")
    else:
        print("retention: off (--no-retention)")
    window = soak.retention_window(days, args.clock_days_per_1000) if retention else None
    if importlib.util.find_spec("syncd.clock") is None:
        print("clock: no syncd.clock in this syncd: the offset file is written but unread")
    elif window is not None:
        print(
            f"clock: {args.clock_days_per_1000:g} days per 1,000 orders for retention: its "
            f"cutoff pinned at the creation of the order {window:,} back ({offset_file})"
        )
    daemon = Daemon(config, env, folder / "syncd.log", random.Random(args.seed))
    store = Store(args.store, folder, url)
    webhooks = Webhooks(listen, SECRET)
    shop = soak.SoakShop(world, args.seed, webhooks.post)
    samples: list[soak_report.Sample] = []
    try:
        daemon.start()
        wait_ready(daemon, listen, world)
        proc = daemon.proc
        assert proc is not None
        sampler = soak.ProcSampler(proc.pid)
        start_cpu = sampler.sample()[1]

        def take(now: float, created: int) -> soak_report.Sample:
            rss, cpu = sampler.sample()
            return soak_report.Sample(now, created, len(shop.lives), rss, cpu, **store.figures())

        print(f"daemon ready (pid {proc.pid}, {start_cpu:.1f} s CPU to start)", flush=True)
        started = time.monotonic()
        created, sampled, shown, drove = 0, -1.0, 0.0, 0.0
        born: list[float] = []  # each order's creation, epoch seconds (retention's clock)
        while True:
            now = time.monotonic() - started
            due = min(args.orders, int(now * args.rate) + 1)
            while created < due:
                shop.new_site_order()
                born.append(time.time())
                created += 1
                drove = now
            shop.act()
            shop.observe()
            if now - sampled >= 1.0:
                sampled = now
                if proc.poll() is not None:
                    raise SystemExit(f"the daemon exited ({proc.returncode}); see {daemon.log}")
                set_offset(offset_file, soak.clock_offset(born, time.time(), days, window))
                samples.append(take(now, created))
            if now - shown >= 10:
                shown = now
                progress(samples[-1], shop, start_cpu)
            if created >= args.orders and (shop.settled() and shop.all_acted()):
                break
            if created >= args.orders and now > args.orders / args.rate + SETTLE_SECONDS:
                print(f"gave up waiting: {len(shop.open)} expectations still open")
                for line in open_expectations(shop, time.monotonic()):
                    print("  " + line)
                break
            time.sleep(0.05)
        took = time.monotonic() - started
        samples.append(take(took, created))
        user, system = sampler.split()
        print(
            f"driven: {created:,} orders in {drove:.0f} s ({created / max(drove, 1e-9):.1f}/s, "
            f"asked {args.rate:g}/s); {len(shop.lives):,} lives done {took - drove:.0f} s later; "
            f"daemon CPU user {user:.1f} s, system {system:.1f} s (start-up included)",
            flush=True,
        )
        wire(listen, webhooks.sent, created)
    finally:
        daemon.stop()
        store.close()
        world.stop()
    return samples, [lag for _, _, lag in shop.lives], start_cpu


def wire(listen: str, webhooks_sent: int, orders: int) -> None:
    """What the daemon's HTTP traffic was per order: calls out by system (its own
    ``syncd_http_requests_total``), webhooks in (what the shop sent)."""
    try:
        text = requests.get(f"http://{listen}/metrics", timeout=5).text
    except requests.RequestException:
        print("on the wire: the daemon's metrics did not answer")
        return
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "syncd_http_requests":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    system = sample.labels["system"]
                    out[system] = out.get(system, 0.0) + sample.value
    each = ", ".join(f"{k} {v / orders:.2f}" for k, v in sorted(out.items()))
    print(
        f"on the wire per order: {sum(out.values()) / orders:.2f} calls out ({each}), "
        f"{webhooks_sent / orders:.2f} webhooks in (bench/http_floor.py: their CPU alone)"
    )


def open_expectations(shop: soak.SoakShop, now: float, most: int = 10) -> list[str]:
    """What the shop still waits for, with both sides' view of each order."""
    lines = []
    for e in shop.open[:most]:
        crm = shop.crm_by_ref.get(e.ref) or {}
        erp = shop.world.erp.state.get(ORDERS, (e.ref,))
        lines.append(
            f"{e.what} {e.ref} (fate {shop.fate.get(e.ref)}), waited {now - e.started:.0f} s: "
            f"CRM {crm.get('status', 'absent')}, 1C {erp['Статус']} Согласован "
            f"{erp['Согласован']} Posted {erp['Posted']}"
        )
    return lines


def progress(s: soak_report.Sample, shop: soak.SoakShop, start_cpu: float) -> None:
    lags = [lag for _, _, lag in shop.lives[-200:]]
    p99 = percentile(lags, 0.99)
    print(
        f"  {s.t:6.0f} s: {s.created} created, {s.done} done, {len(shop.of_ref)} in flight; "
        f"RSS {s.rss / soak_report.MB:.1f} MB, CPU {s.cpu - start_cpu:.1f} s, "
        f"store {s.store / soak_report.MB:.2f} MB, lag p99 (last 200) "
        f"{'n/a' if p99 is None else f'{p99:.2f} s'}",
        flush=True,
    )


def report(samples: list, lags: list, start_cpu: float, args: argparse.Namespace) -> bool:
    total = samples[-1].done
    sqlite = args.store == "sqlite"
    extra = "  (WAL MB, live MB)" if sqlite else ""
    print(f"\n   orders  CPU s/1000   RSS MB   store MB   B/order  lag p99 s{extra}")
    for r in soak_report.per_thousand(samples, lags, start_cpu):
        cpu = f"{r.cpu:10.2f}" if r.cpu is not None else f"{'n/a':>10}"
        lag = f"{r.lag_p99:9.2f}" if r.lag_p99 is not None else f"{'n/a':>9}"
        more = ""
        if sqlite:
            live = f"{r.live / soak_report.MB:.2f}" if r.live is not None else "n/a"
            more = f"  ({(r.wal or 0) / soak_report.MB:.2f}, {live})"
        print(
            f"  {r.orders:7,} {cpu} {r.rss / soak_report.MB:8.1f} {r.store / soak_report.MB:10.2f} "
            f"{r.per_order:9,.0f} {lag}{more}"
        )
    print(f"\nover the second half ({total // 2:,} .. {total:,} orders done):")
    trends = [("RSS", lambda s: s.rss), ("store", lambda s: s.store)]
    if sqlite:
        trends.append(("live", lambda s: s.live or 0))
    for what, value in trends:
        t = soak_report.trend(samples, value, total)
        if t is None:
            print(f"  {what:<6} slope n/a")
        else:
            print(
                f"  {what:<6} slope {t.per_thousand / soak_report.KB:+,.1f} KB per 1,000 orders, "
                f"{t.growth:+.1%} over the half"
            )
    if args.store == "postgresql":
        judged, small = soak_report.dead_maxima(samples, total)
        for what, ratios in (
            (f"tables of {soak_report.DEAD_MIN_ROWS:,}+ rows", judged),
            ("smaller ones, not judged", small),
        ):
            worst = ", ".join(
                f"{k} {v:.0%}" for k, v in sorted(ratios.items(), key=lambda kv: -kv[1])
            )
            print(f"  dead-tuple ratio, max, {what}: {worst or 'none'}")
    print(f"\nbounds ({total:,} of {args.orders:,} orders done):")
    verdicts = soak_report.verdicts(samples, start_cpu, total, args.store)
    if total < args.orders:
        done = soak_report.Verdict("orders done", f"{total:,}", f"= {args.orders:,}", False)
        verdicts.append(done)
    for v in verdicts:
        print("  " + v.line())
    return all(v.ok for v in verdicts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, help="default 2,000 (--long: 50,000)")
    parser.add_argument("--rate", type=float, default=5.0, help="new orders a second")
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--retention-days", type=float, default=1.0)
    parser.add_argument(
        "--clock-days-per-1000", type=float, default=1.0, help="retention's clock (0: still)"
    )
    parser.add_argument("--no-retention", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep the config, log and store here")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--long", action="store_true", help="50,000 orders: hours")
    parser.add_argument("--no-bounds", action="store_true", help="exit 0 whatever the figures")
    args = parser.parse_args()
    args.orders = args.orders or (50_000 if args.long else 2000)
    name = f"syncd_soak_{os.getpid()}" if args.store == "postgresql" else None
    url = fresh_database(name) if name else None
    with tempfile.TemporaryDirectory(prefix="syncd-soak-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(
            f"soak: {args.orders:,} orders at {args.rate:g}/s on {args.store}"
            f"{f' (database {name})' if name else ''} in {folder}",
            flush=True,
        )
        try:
            samples, lags, start_cpu = drive(args, folder, url)
        finally:
            if name and not args.keep:
                drop_database(name)
    ok = report(samples, lags, start_cpu, args)
    if name and args.keep:
        print(f"kept the database {name}")
    return 0 if ok or args.no_bounds else 1


if __name__ == "__main__":
    sys.exit(main())
