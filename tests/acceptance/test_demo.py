"""``syncd demo`` (what ``make run`` runs): a short day on both sandboxes settles with no errors,
and the latency metric agrees with the lag the demo measured."""

from __future__ import annotations

import re
import socket

import pytest
import yaml

from tests.support.daemon import ROOT, syncd

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_short_demo_day_settles_and_says_where_to_look(tmp_path):
    config = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8"))
    config["state_dir"] = str(tmp_path / "state")
    config["mappings_dir"] = str(ROOT / "mappings")
    config["http"]["listen"] = f"127.0.0.1:{free_port()}"
    # zones other than this host's (UTC) and the defaults: the demo starts its sandboxes in them
    config["crm"]["timezone"] = "Asia/Vladivostok"
    config["erp"]["timezone"] = "Asia/Yekaterinburg"
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    done = syncd(
        "demo",
        "--config",
        str(path),
        "--hours",
        "3",
        "--hour-seconds",
        "1",
        "--erp-port",
        "0",
        "--crm-port",
        "0",
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "initial load: 200 sample orders" in out
    assert "still waiting 0" in out and "dead letters 0, conflicts 0" in out
    assert "lag 1C→CRM" in out and "lag CRM→1C" in out
    # the order robot agreed some of the day's orders by itself and handed the rest over
    robot = re.search(r"order robot: decided (\d+), agreed (\d+) by itself", out)
    assert robot and int(robot.group(2)) > 0, out
    # the daemon's latency metric tells the lag the demo measured, in both directions
    # (the sandbox CRM writes its dates in the account's zone, whatever this host's is)
    for direction in ("1C→CRM", "CRM→1C"):
        found = re.search(
            rf"lag {direction}: mean ([\d.]+) s.*\n"
            r"    syncd_apply_latency_seconds says: mean ([\d.]+) s over (\d+) writes",
            out,
        )
        assert found, out
        measured, metric = float(found.group(1)), float(found.group(2))
        assert abs(metric - measured) <= 5.0, (direction, measured, metric)
    assert f"http://{config['http']['listen']}/metrics" in out and "syncd status" in out
    # the daemon has stopped: the metrics link says it needs --keep-running
    assert "/metrics (only while it runs: syncd demo --keep-running)" in out
    assert (tmp_path / "state" / "syncd.log").exists()


def test_a_short_demo_day_settles_with_1c_reached_through_the_web_service_alone(tmp_path):
    """``syncd demo --erp-via soap``: the exchange plan read through SyncdExchange, the
    agreed statuses set by SetOrderStatus, and no OData configured at all."""
    config = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8"))
    config["state_dir"] = str(tmp_path / "state")
    config["mappings_dir"] = str(ROOT / "mappings")
    config["http"]["listen"] = f"127.0.0.1:{free_port()}"
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    done = syncd(
        "demo",
        *("--config", str(path), "--hours", "3", "--hour-seconds", "1", "--erp-via", "soap"),
        *("--erp-port", "0", "--crm-port", "0"),
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "/ws/SyncdExchange.1cws?wsdl (the SyncdExchange web service, no OData)" in out
    assert "initial load: 200 sample orders" in out
    assert "still waiting 0" in out and "dead letters 0, conflicts 0" in out
    assert re.search(r"orders synced 1C→CRM [1-9]\d*, CRM→1C [1-9]\d*", out), out
    used = yaml.safe_load((tmp_path / "state" / "syncd-soap.yaml").read_text(encoding="utf-8"))
    assert "odata_url" not in used["erp"]
    assert {s["kind"] for s in used["sources"] if s["system"] == "erp"} == {"erp_soap"}
    assert used["sinks"]["erp"]["options"]["status_via"] == "soap"
