"""`syncd robot explain` and `syncd timers list`: what the robot decided, what waits."""

from __future__ import annotations

import json
import time

from click.testing import CliRunner

from cli import main
from syncd.store import bindings
from tests.support.daemon import write_config
from tests.support.paths import ROOT
from tests.support.robot import agreeable, without
from tests.support.robot_flows import RobotFlows, crm_event


def run(*args: str):  # noqa: ANN201
    return CliRunner().invoke(main, list(args))


def bench(tmp_path):  # noqa: ANN001, ANN201
    flows = RobotFlows(tmp_path)
    flows.stock([("nom-0c41", "main-warehouse", 5), ("nom-0c42", "main-warehouse", 1)])
    cfg = write_config(
        tmp_path, f"sqlite:///{tmp_path}/robot.db", extra={"mappings_dir": str(ROOT / "mappings")}
    )
    return flows, str(cfg)


def test_explain_prints_each_condition_with_its_value_and_source(tmp_path):
    flows, cfg = bench(tmp_path)
    body = without(agreeable(), "paid")
    flows.add(crm_event(body, 901, entity="order_created"))
    shown = run("robot", "explain", body["externalId"], "--config", cfg)
    assert shown.exit_code == 0, shown.output
    assert "needs_agreement" in shown.output
    assert "FAIL paid" in shown.output and "CRM payments" in shown.output
    assert "ok   in_stock" in shown.output and "1C free stock" in shown.output
    assert "move: pending" in shown.output  # queued for the CRM sink
    as_json = json.loads(
        run("robot", "explain", body["externalId"], "--config", cfg, "--json").output
    )
    assert as_json["reasons"] == ["paid 0 of 3450"] and as_json["status"] == "requires-agreement"
    flows.close()


def test_explain_finds_an_order_by_its_crm_id_too(tmp_path):
    flows, cfg = bench(tmp_path)
    body = agreeable()
    flows.add(crm_event(body, 901, entity="order_created"))
    with flows.store.begin() as conn:  # what the CRM sink records once it wrote the order
        ref = ("crm", "order", body["externalId"])
        bindings.record_writes(conn, [bindings.Write(ref, "f", None, "4812", None)])
    shown = run("robot", "explain", "4812", "--config", cfg)
    assert shown.exit_code == 0 and "agree" in shown.output, shown.output
    flows.close()


def test_explain_says_when_the_robot_did_not_or_will_not_decide(tmp_path):
    flows, cfg = bench(tmp_path)
    unknown = run("robot", "explain", "erp-nothing", "--config", cfg)
    assert unknown.exit_code == 1 and "has not decided" in unknown.output
    moved = {**agreeable(), "status": "client-confirmed"}
    flows.add(crm_event(moved, 901))
    skipped = run("robot", "explain", moved["externalId"], "--config", cfg)
    assert skipped.exit_code == 0 and "not decided by the robot" in skipped.output
    flows.close()


def test_timers_list_shows_the_call_chains_pending_returns(tmp_path):
    flows, cfg = bench(tmp_path)
    assert "no timers pending" in run("timers", "list", "--config", cfg).output
    now = time.time()
    flows.add(crm_event({**agreeable(), "status": "no-call"}, 901, at=now))
    listed = run("timers", "list", "--config", cfg)
    assert listed.exit_code == 0, listed.output
    assert "call_chain:erp-7f3c2a10:1" in listed.output and "in 2 h 59 min" in listed.output
    flows.add(crm_event({**agreeable(), "status": "requires-agreement"}, 902, at=now))
    assert "no timers pending" in run("timers", "list", "--config", cfg).output
    (row,) = [
        json.loads(x)
        for x in run("timers", "list", "--all", "--json", "--config", cfg).output.splitlines()
    ]
    assert row["state"] == "cancelled"
    flows.close()
