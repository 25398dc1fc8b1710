"""1C and the CRM unreachable: each failure is one log line with its cause; the traceback
only at DEBUG; a store error without SQLAlchemy's link."""

from __future__ import annotations

import json

import yaml
from sqlalchemy import create_engine

from syncd.failures import expected, one_line
from tests.support.daemon import syncd
from tests.support.e2e import NO_ERP, order_config, unreachable_env


def errors(output: str) -> list[dict]:
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if line["level"] == "ERROR"]


def test_unreachable_systems_are_one_line_each_and_the_traceback_waits_for_debug(tmp_path):
    config = order_config(tmp_path, f"sqlite:///{tmp_path}/o.db", NO_ERP)
    done = syncd("run", "--once", "--config", str(config), env=unreachable_env())
    failed = errors(done.stdout + done.stderr)
    assert {e["msg"].split(" failed")[0] for e in failed} == {
        "stream crm_orders",
        "stream erp_changes",
    }
    for entry in failed:
        assert "exc" not in entry and "Traceback" not in entry["msg"], entry
        assert entry["msg"].endswith("ConnectionError: 127.0.0.1:9: [Errno 111] Connection refused")
    # at DEBUG the same failures bring their tracebacks
    data = yaml.safe_load(config.read_text())
    data["log"] = {"level": "DEBUG", "format": "json"}
    config.write_text(yaml.safe_dump(data, allow_unicode=True))
    debug = syncd("run", "--once", "--config", str(config), env=unreachable_env())
    assert all("exc" in e for e in errors(debug.stdout + debug.stderr))


def test_a_store_error_is_told_without_sqlalchemy_s_link_and_a_bug_keeps_its_class():
    try:
        create_engine("sqlite://").connect().exec_driver_sql("SELECT * FROM nowhere")
    except Exception as exc:  # noqa: BLE001 - the error under test
        told = one_line(exc)
    assert told == "OperationalError: no such table: nowhere"
    assert expected(ConnectionRefusedError()) and not expected(KeyError("x"))
    assert one_line(KeyError("x")) == "KeyError: 'x'"
