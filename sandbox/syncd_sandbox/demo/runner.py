"""Playing the demo: the world, the daemon (a real ``syncd run``), a day, progress, a summary.

The daemon runs as its own process on the demo configuration, with its log in
``state/demo/syncd.log``; this process serves the sandboxes, acts as their
users and watches what syncd does.  The demo starts from a clean
``state/demo`` each time (its sandboxes start fresh too).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from syncd.config import Settings
from syncd.status import status_report
from syncd.store import Store
from syncd_sandbox.demo.day import CRM_TO_ERP, ERP_TO_CRM
from syncd_sandbox.demo.robot_day import RobotDay
from syncd_sandbox.demo.world import World

SOAP_DROPPED = {"erp_stock", "stock_sync", "retailcrm_inventory"}  # Balance is OData's


def over_soap(config: dict, folder: Path, world: World) -> dict:
    """The demo's configuration with 1C reached through SyncdExchange alone: the exchange
    plan read by ``erp_soap``, statuses set by ``SetOrderStatus``, no OData (so no free
    stock from the register's Balance: that path has no web service operation)."""
    for key in ("state_dir", "mappings_dir"):  # the copy lives elsewhere: absolute paths
        if config.get(key):
            config[key] = str((folder / config[key]).resolve())
    erp = config["erp"]
    erp.pop("odata_url", None)
    erp["soap"] = {"wsdl_url": world.syncd_ws_url}
    sources = []
    for source in config["sources"]:
        if source["kind"] == "erp_exchange":
            options = source["options"]
            source = {**source, "kind": "erp_soap"}
            source["options"] = {"node": "syncd", "sets": options["sets"]}
        if source["kind"] not in SOAP_DROPPED:
            sources.append(source)
    config["sources"] = sources
    config["flows"] = [f for f in config["flows"] if f["kind"] not in SOAP_DROPPED]
    config["sinks"] = {n: s for n, s in config["sinks"].items() if s["kind"] not in SOAP_DROPPED}
    for sink in config["sinks"].values():
        if sink["kind"] == "erp":
            sink["options"] = {**(sink.get("options") or {}), "status_via": "soap"}
    return config


def _load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# the metric's direction label -> the demo's name for it
DIRECTIONS = {"erp_to_crm": ERP_TO_CRM, "crm_to_erp": CRM_TO_ERP}


class Webhooks:
    """Nudges the daemon as 1C's event subscription and RetailCRM's trigger would."""

    def __init__(self, listen: str, secret: str) -> None:
        self.base, self.secret, self.failed, self.sent = f"http://{listen}", secret, 0, 0
        self.session = requests.Session()

    def post(self, system: str, body: dict) -> None:
        self.sent += 1
        try:
            if system == "1c":
                self.session.post(
                    f"{self.base}/webhooks/1c",
                    json=body,
                    timeout=2,
                    headers={"X-Syncd-Token": self.secret},
                )
            else:
                self.session.post(
                    f"{self.base}/webhooks/retailcrm",
                    data={**body, "token": self.secret},
                    timeout=2,
                )
        except requests.RequestException:
            self.failed += 1


class Demo:
    def __init__(
        self,
        settings: Settings,
        config_path: Path,
        *,
        webhooks: bool = True,
        echo: Callable[[str], None] = print,
        world: World | None = None,
        erp_via: str = "odata",
    ) -> None:
        self.settings, self.config_path, self.echo = settings, config_path, echo
        self.erp_via = erp_via
        self.world = world or World(
            erp_timezone=settings.erp.timezone, crm_timezone=settings.crm.timezone
        )
        self.webhooks = (
            Webhooks(settings.http.listen, settings.http.webhook_secret.get_secret_value())
            if webhooks and settings.http.webhook_secret
            else None
        )
        self.log_path = settings.state_dir / "syncd.log"
        # the daemon's clock for timers: an hour of the demo moves it an hour ahead
        self.clock_file = settings.state_dir / "clock-offset"
        self.clock_offset = 0.0
        self.player = RobotDay(
            self.world,
            notify=self.webhooks.post if self.webhooks else None,
            advance=self.advance_clock,
        )
        self.daemon: subprocess.Popen | None = None
        self._latency_before_day: dict[str, tuple[float, int]] = {}

    # -- the parts ---------------------------------------------------------------
    def start(self, erp_port: int, crm_port: int) -> None:
        shutil.rmtree(self.settings.state_dir, ignore_errors=True)
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        self.world.start(erp_port, crm_port)
        self.clock_file.write_text("0", encoding="utf-8")
        env = {**os.environ, **self.world.env(), "SYNCD_CLOCK_OFFSET_FILE": str(self.clock_file)}
        config = self.config_path
        if self.erp_via == "soap":  # 1C through the SyncdExchange web service alone
            config = self.settings.state_dir / "syncd-soap.yaml"
            soap = over_soap(_load_yaml(self.config_path), self.config_path.parent, self.world)
            config.write_text(yaml.safe_dump(soap, allow_unicode=True), encoding="utf-8")
            env.pop("SYNCD_ERP_ODATA_URL", None)
        log = self.log_path.open("ab")
        self.daemon = subprocess.Popen(
            [sys.executable, "-m", "cli", "run", "--config", str(config)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[3],
        )
        self.player.expect_initial_orders()

    def stop(self) -> None:
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
        self.world.stop()

    def advance_clock(self, seconds: float) -> None:
        """Move the daemon's timer clock forward (it reads the file within a second)."""
        self.clock_offset += seconds
        self.clock_file.write_text(str(self.clock_offset), encoding="utf-8")

    def daemon_alive(self) -> bool:
        return self.daemon is not None and self.daemon.poll() is None

    # -- playing -----------------------------------------------------------------
    def initial_load(self, timeout: float = 120.0) -> float:
        """Wait until the sample orders are in the CRM; returns how long it took."""
        started = time.monotonic()
        while not self.player.settled() and self.daemon_alive():
            if time.monotonic() - started > timeout:
                break
            self._watch(1.0, "initial load")
        self._latency_before_day = self.latency_metric()
        return time.monotonic() - started

    def play(self, hours: int, hour_seconds: float, settle_seconds: float = 60.0) -> dict:
        for hour in range(hours):
            self.player.hour(8 + hour)
            self._watch(hour_seconds, f"hour {hour + 1}/{hours}")
        self.player.night()  # the last missed calls' timers come due
        deadline = time.monotonic() + settle_seconds
        while not self.player.settled() and time.monotonic() < deadline and self.daemon_alive():
            self._watch(0.5, "settling")
        return self.summary()

    def _watch(self, seconds: float, label: str) -> None:
        until = time.monotonic() + seconds
        while True:
            self.player.observe()
            if time.monotonic() >= until:
                break
            time.sleep(min(0.05, max(0.0, until - time.monotonic())))
        self.echo(self.progress_line(label))

    def store_report(self) -> dict:
        try:
            store = Store.open(self.settings.database_url)
        except Exception:  # noqa: BLE001 - not created yet
            return {}
        try:
            return status_report(store)
        except Exception:  # noqa: BLE001 - tables not migrated yet
            return {}
        finally:
            store.dispose()

    def progress_line(self, label: str) -> str:
        s = self.player.stats()
        report = self.store_report()
        lag = s["lag"]
        errors = report.get("dead_letters", {}) if report else {}
        return (
            f"{label:>12} | 1C→CRM {s['synced']['1C→CRM']:>4} | CRM→1C {s['synced']['CRM→1C']:>4}"
            f" | waiting {s['waiting']:>3} | lag p99 {_s(lag['1C→CRM']['p99'])} / "
            f"{_s(lag['CRM→1C']['p99'])} | dead letters {_count(errors)}"
            f" | conflicts {report.get('conflicts', 0) if report else 0}"
        )

    def latency_metric(self) -> dict[str, tuple[float, int]]:
        return latency_metric(self.settings.http.listen)

    def day_latency_metric(self) -> dict[str, dict]:
        """What the metric says of the day's writes (the initial load left out)."""
        return latency_between(self._latency_before_day, self.latency_metric())

    def summary(self) -> dict:
        self.player.observe()
        report = self.store_report()
        return {
            "player": self.player.stats(),
            "metric": self.day_latency_metric(),
            "store": report,
            "webhooks_failed": self.webhooks.failed if self.webhooks else 0,
        }


def _s(value: float | None) -> str:
    return "   -  " if value is None else f"{value:5.2f}s"


def _count(letters) -> int:  # noqa: ANN001
    if isinstance(letters, dict):
        return sum(int(v) for v in letters.values())
    return int(letters or 0)


def latency_metric(listen: str) -> dict[str, tuple[float, int]]:
    """The daemon's ``syncd_apply_latency_seconds`` (sum, count) per demo direction."""
    try:
        text = requests.get(f"http://{listen}/metrics", timeout=5).text
    except requests.RequestException:
        return {}
    found: dict[str, list[float]] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "syncd_apply_latency_seconds":
            continue
        for sample in family.samples:
            direction = DIRECTIONS.get(sample.labels.get("direction", ""))
            part = {"_sum": 0, "_count": 1}.get(sample.name[len(family.name) :])
            if direction and part is not None:
                found.setdefault(direction, [0.0, 0.0])[part] = sample.value
    return {d: (total, int(count)) for d, (total, count) in found.items()}


def latency_between(before: dict, after: dict) -> dict[str, dict]:
    """The metric's mean over the writes between two scrapes, per direction — to set
    beside the lag the player measured over the same stretch."""
    out = {}
    for direction, (total, count) in after.items():
        total0, count0 = before.get(direction, (0.0, 0))
        if count > count0:
            out[direction] = {"mean": (total - total0) / (count - count0), "writes": count - count0}
    return out
