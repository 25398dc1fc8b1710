"""The chaos harness: orders both ways through faults and kills, then the score.

Both sandboxes run in this process and make trouble on purpose — 5xx and 503
answers, requests that hang, 1C writes answered late — while the daemon runs
as real processes and is killed (SIGKILL) at random moments; some of its
incarnations are also armed with a failpoint inside a multi-step write
(after a 1C PATCH, after a Post, after a sink's batch), so kills land where
they hurt most.  A player acts as the shop: new site orders in 1C, a manager
agreeing or cancelling them in the CRM, the warehouse shipping agreed ones
in 1C.  When every order has had its fate, the harness waits for syncd to
converge and compares both sandboxes with what should be:

- **lost**: an expected change that never arrived (an order not in the CRM,
  an agreement not posted in 1C, a cancellation not in 1C, a shipment not in
  the CRM);
- **duplicated**: more than one CRM order or customer for one 1C object, or
  an order in 1C that no one created;
- **wrong**: an order whose final status differs from its fate on either side.

    report = run_chaos(ChaosPlan(orders=2000, kills=25, faults=0.2, hangs=0.02), workdir)
    print(report.lines())
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from syncd_sandbox.crm_faults import Faults
from syncd_sandbox.demo.day import ORDERS, DayPlayer
from syncd_sandbox.demo.runner import Webhooks
from syncd_sandbox.demo.world import World, without_robot
from syncd_sandbox.erp_faults import ErpFaults

ROOT = Path(__file__).resolve().parents[3]
SECRET = "chaos-webhook-secret"
ARMED = ("erp.after_patch", "erp.after_post", "sink.after_apply", "flow.after_plan")


@dataclass
class ChaosPlan:
    orders: int = 2000
    kills: int = 25
    faults: float = 0.2  # share of requests answered 5xx/503, on each system
    hangs: float = 0.02  # share of requests that hang, on each system (1C writes: half late)
    hang_seconds: float = 15.0
    rate: float = 5.0  # new site orders per second while driving (both runs alike)
    store_url: str | None = None  # None: SQLite in the work folder
    seed: int = 1
    settle_timeout: float = 900.0
    customers: int = 300
    items: int = 100


@dataclass
class ChaosReport:
    orders: int = 0
    kills: int = 0
    faults: Counter = field(default_factory=Counter)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    dead_letters: int = 0
    drive_seconds: float = 0.0
    converge_seconds: float | None = None
    fates: Counter = field(default_factory=Counter)

    def lines(self) -> list[str]:
        converged = (
            f"{self.converge_seconds:.1f} s" if self.converge_seconds is not None else "NEVER"
        )
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())) or "none"
        out = [
            f"orders        {self.orders} ({', '.join(f'{k} {v}' for k, v in self.fates.items())})",
            f"kills         {self.kills}",
            f"faults        {sum(self.faults.values())} ({faults})",
            f"lost          {len(self.lost)}",
            f"duplicated    {len(self.duplicated)}",
            f"wrong         {len(self.wrong)}",
            f"dead letters  {self.dead_letters}",
            f"driving       {self.drive_seconds:.1f} s",
            f"converged in  {converged} (from the first order)",
        ]
        for kind, items in (
            ("lost", self.lost),
            ("duplicated", self.duplicated),
            ("wrong", self.wrong),
        ):
            out += [f"  {kind}: {item}" for item in items[:10]]
        return out

    @property
    def clean(self) -> bool:
        return (
            not (self.lost or self.duplicated or self.wrong) and self.converge_seconds is not None
        )


class Shop(DayPlayer):
    """The shop's people, at a steady pace, each order's fate drawn when it is created."""

    def __init__(self, world: World, seed: int, notify: Callable[[str, dict], None]) -> None:
        super().__init__(world, seed=seed, notify=notify)
        self.fate: dict[str, str] = {}  # 1C ref -> new | agree | cancel
        self.to_ship: set[str] = set()
        self._crm_orders: dict[str, dict] | None = None

    def observe(self) -> None:
        """Every pending expectation against one look at the CRM (taken under its lock:
        the sandbox serves syncd meanwhile)."""
        with self.world.crm.state.lock:
            orders = list(self.world.crm.state.records["order"].values())
        self._crm_orders = {o["externalId"]: o for o in orders if o.get("externalId")}
        try:
            super().observe()
        finally:
            self._crm_orders = None

    def _crm(self, ref: str) -> dict | None:
        if self._crm_orders is not None:
            return self._crm_orders.get(ref)
        with self.world.crm.state.lock:
            return super()._crm(ref)

    def new_site_order(self) -> None:
        super().new_site_order()
        ref = self.expectations[-1].ref  # the order just created
        draw = self.rnd.random()
        self.fate[ref] = "agree" if draw < 0.75 else "cancel" if draw < 0.87 else "new"
        if self.fate[ref] == "agree" and self.rnd.random() < 0.7:
            self.to_ship.add(ref)

    def act(self) -> None:
        """The manager and the warehouse: everything due, now."""
        for order in self.crm_orders_waiting():
            fate = self.fate.get(order["externalId"])
            if fate == "agree":
                self.agree(order)
            elif fate == "cancel":
                self.cancel(order)
        for ref in sorted(self.to_ship - self.shipped):
            if self._agreed_in_erp(ref):
                self.ship(ref)

    def all_acted(self) -> bool:
        decided = {r for r, f in self.fate.items() if f != "new"}
        return decided <= set(self.agreed) | self.cancelled and self.to_ship <= self.shipped


class Daemon:
    """``syncd run`` as a real process, killed and started again on demand."""

    def __init__(self, config: Path, env: dict, log: Path, rnd: random.Random) -> None:
        self.config, self.env, self.log, self.rnd = config, env, log, rnd
        self.proc: subprocess.Popen | None = None
        self.kills = 0
        self.starts = 0

    def start(self, armed: str | None = None) -> None:
        env = {**os.environ, **self.env}
        if armed:
            env["SYNCD_FAILPOINT"] = armed
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "run", "--config", str(self.config)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        self.starts += 1

    def keep_alive(self) -> None:
        """A daemon that died at its failpoint counts as a kill; start the next one."""
        if self.proc is not None and self.proc.poll() is not None:
            if self.proc.returncode == -signal.SIGKILL:
                self.kills += 1
            self.start()

    def kill(self) -> None:
        """SIGKILL now; the next incarnation is sometimes armed with a failpoint."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            self.kills += 1
        armed = None
        if self.rnd.random() < 0.4:
            armed = f"{self.rnd.choice(ARMED)}:{self.rnd.randint(1, 5)}"
        self.start(armed)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_chaos(
    plan: ChaosPlan, workdir: Path, echo: Callable[[str], None] = lambda line: None
) -> ChaosReport:
    rnd = random.Random(plan.seed)
    world = World(customers=plan.customers, items=plan.items, orders=0, seed=plan.seed)
    _make_trouble(world, plan)
    world.start(threads=64)
    workdir.mkdir(parents=True, exist_ok=True)
    listen = f"127.0.0.1:{_free_port()}"
    config = _write_config(workdir, listen, plan, world.erp.node)
    daemon = Daemon(config, world.env(), workdir / "syncd.log", rnd)
    shop = Shop(world, plan.seed, Webhooks(listen, SECRET).post)
    report = ChaosReport()
    try:
        daemon.start()
        started = time.monotonic()
        drive = plan.orders / plan.rate
        kill_at = sorted(rnd.uniform(0.05, 0.95) * drive for _ in range(plan.kills))
        created, shown = 0, 0.0
        while created < plan.orders or not shop.all_acted():
            now = time.monotonic() - started
            due = min(plan.orders, int(now * plan.rate) + 1)
            while created < due:
                shop.new_site_order()
                created += 1
            while kill_at and now >= kill_at[0]:
                kill_at.pop(0)
                daemon.kill()
            daemon.keep_alive()
            shop.act()
            shop.observe()
            if now > drive + plan.settle_timeout:
                break
            if now - shown >= 10:
                shown = now
                echo(_progress(now, created, shop, daemon))
            time.sleep(0.1)
        report.drive_seconds = time.monotonic() - started
        echo(f"driven: {created} orders in {report.drive_seconds:.1f} s; settling")
        while time.monotonic() - started < drive + plan.settle_timeout:
            daemon.keep_alive()
            shop.observe()
            if shop.settled():
                report.converge_seconds = time.monotonic() - started
                break
            now = time.monotonic() - started
            if now - shown >= 10:
                shown = now
                echo(_progress(now, created, shop, daemon))
            time.sleep(0.2)
        _score(report, shop, world)
        report.kills = daemon.kills
    finally:
        world.erp.faults.release()
        daemon.stop()
        world.stop()
    report.dead_letters = _dead_letters(workdir, plan)
    report.faults = Counter({f"1C {k}": v for k, v in world.erp.faults.injected.items()})
    report.faults["CRM"] = world.crm.faults.injected
    return report


def _progress(now: float, created: int, shop: Shop, daemon: Daemon) -> str:
    waiting = Counter(e.what for e in shop.expectations if e.done_at is None)
    shown = ", ".join(f"{k} {v}" for k, v in sorted(waiting.items())) or "nothing"
    return f"  {now:6.0f} s: {created} orders, kills {daemon.kills}, waiting for {shown}"


def _make_trouble(world: World, plan: ChaosPlan) -> None:
    world.crm.faults = Faults(
        server_error=plan.faults / 2,
        unavailable=plan.faults / 2,
        timeout=plan.hangs,
        timeout_seconds=plan.hang_seconds,
        seed=plan.seed,
    )
    world.erp.faults = ErpFaults(
        unavailable=plan.faults / 2,
        server_error=plan.faults / 2,
        hang=plan.hangs / 2,
        late=plan.hangs / 2,
        hang_seconds=plan.hang_seconds,
        seed=plan.seed + 1,
    )


def _score(report: ChaosReport, shop: Shop, world: World) -> None:
    """Lost, duplicated and wrong, by comparing both sandboxes with each order's fate."""
    report.orders = len(shop.fate)
    report.fates = Counter(shop.fate.values())
    report.lost = [f"{e.what} {e.ref}" for e in shop.expectations if e.done_at is None]
    with world.crm.state.lock:
        crm_orders = list(world.crm.state.records["order"].values())
        crm_customers = list(world.crm.state.records["customer"].values())
    by_ref = Counter(o.get("externalId") for o in crm_orders if o.get("externalId"))
    report.duplicated += [f"{n} CRM orders for 1C order {r}" for r, n in by_ref.items() if n > 1]
    numbers = Counter(o.get("number") for o in crm_orders)
    report.duplicated += [f"{n} CRM orders numbered {k}" for k, n in numbers.items() if n > 1]
    partners = Counter(c.get("externalId") for c in crm_customers if c.get("externalId"))
    report.duplicated += [f"{n} CRM customers for {k}" for k, n in partners.items() if n > 1]
    erp_orders = world.erp.state.rows(ORDERS)
    unknown = [o["Ref_Key"] for o in erp_orders if o["Ref_Key"] not in shop.fate]
    report.duplicated += [f"1C order {r} that no one created" for r in unknown]
    for ref, fate in shop.fate.items():
        crm = world.crm.state.find("order", ref, "externalId", None) or {}
        erp = world.erp.state.get(ORDERS, (ref,))
        want_crm, erp_ok = _expected(fate, ref in shop.shipped, erp)
        if crm and crm.get("status") != want_crm:
            report.wrong.append(f"{ref}: CRM {crm.get('status')!r}, expected {want_crm!r}")
        if not erp_ok:
            report.wrong.append(
                f"{ref}: 1C {erp['Статус']}/Согласован {erp['Согласован']}, fate {fate}"
            )


def _expected(fate: str, shipped: bool, erp: dict) -> tuple[str, bool]:
    """The CRM status an order must end in, and whether 1C holds what it must."""
    lines = erp.get("Товары") or []
    if fate == "cancel":
        return "cancel-other", bool(lines) and all(line["Отменено"] for line in lines)
    if fate == "agree":
        agreed = bool(erp["Согласован"] and erp["Posted"])
        return ("send-to-delivery" if shipped else "client-confirmed"), agreed
    return "new", erp["Статус"] == "НеСогласован"


def _dead_letters(workdir: Path, plan: ChaosPlan) -> int:
    from syncd.store import Store, dead_letters

    store = Store.open(plan.store_url or f"sqlite:///{workdir / 'state' / 'syncd.db'}")
    try:
        with store.read() as conn:
            return sum(dead_letters.count_open(conn).values())
    finally:
        store.dispose()


def _write_config(workdir: Path, listen: str, plan: ChaosPlan, node: str) -> Path:
    demo = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8"))
    demo = without_robot(demo)  # the shop agrees its orders itself
    demo["state_dir"] = str(workdir / "state")
    demo["mappings_dir"] = str(ROOT / "mappings")
    demo["http"] = {"listen": listen, "webhook_secret": SECRET}
    demo["erp"] = {
        "requests_per_second": 200,
        "max_concurrency": 4,
        "timeout_seconds": 5,  # a hung 1C request is given up after 5 s, not 120
        "timezone": "Europe/Moscow",
    }
    demo["crm"] = {"timezone": "Europe/Moscow"}
    demo["sources"][0]["options"]["node"] = node
    for source in demo["sources"]:
        source["interval_seconds"] = 1
    # hung calls hold a round of writes until its deadline: more rounds side by side
    demo["engine"] = {**demo.get("engine", {}), "sink_workers": 8}
    if plan.store_url:
        demo["store"] = {"url": plan.store_url}
    demo["log"] = {"level": "WARNING", "format": "json"}
    path = workdir / "chaos.yaml"
    path.write_text(yaml.safe_dump(demo, allow_unicode=True), encoding="utf-8")
    return path


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
