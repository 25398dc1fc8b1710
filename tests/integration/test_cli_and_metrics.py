"""The operator's view: `syncd status`, `check-config`, `dead-letters`, and /metrics names."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cli import main
from syncd.config import load_settings
from syncd.engine.daemon import Engine
from syncd.metrics import Metrics
from syncd.web import WebApp
from tests.support.daemon import change, write_config, write_feed


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_status_json_has_streams_outbox_dead_letters_and_conflicts(tmp_path, store, db_url):
    config = write_config(tmp_path, db_url, sink_options={"reject_keys": ["BAD"]})
    write_feed(tmp_path, [change("order", "OK", 1, total=1), change("order", "BAD", 1, total=2)])
    Engine(load_settings(config, {}), config_path=str(config), store=store).run(once=True)

    result = run("status", "--json", "-c", str(config))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["streams"]["feed"]["events"] == 2
    assert report["streams"]["feed"]["cursor"] > 0
    assert report["streams"]["feed"]["last_success"] is not None
    assert report["outbox"] == {"pending": 0, "retrying": 0, "failed": 1}
    assert report["dead_letters"] == 1 and report["conflicts"] == 0
    assert report["store"]["size_bytes"] > 0

    listed = run("dead-letters", "list", "-c", str(config))
    letter_id = listed.stdout.split("\t")[0]
    shown = run("dead-letters", "show", letter_id, "-c", str(config))
    assert '"subject": "out/order/BAD"' in shown.output
    assert run("dead-letters", "discard", letter_id, "-c", str(config)).exit_code == 0
    after = json.loads(run("status", "--json", "-c", str(config)).stdout)
    assert after["dead_letters"] == 0 and after["outbox"]["failed"] == 0
    assert run("dead-letters", "show", "999999", "-c", str(config)).exit_code == 1


def test_check_config_exits_0_when_valid_and_1_with_located_errors(tmp_path):
    good = write_config(tmp_path, f"sqlite:///{tmp_path}/s.db")
    assert run("check-config", str(good)).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("engine:\n  batch_size: lots\nsources:\n  - {name: a, kind: nope, system: x}\n")
    result = run("check-config", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:2:" in result.output and "engine.batch_size" in result.output


def test_check_config_takes_the_file_with_c_as_every_command_does(tmp_path):
    good = write_config(tmp_path, f"sqlite:///{tmp_path}/s.db")
    for args in (["-c", str(good)], ["--config", str(good)]):
        result = run("check-config", *args)
        assert result.exit_code == 0 and f"{good}: valid" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("engine:\n  batch_size: lots\n")
    assert run("check-config", "-c", str(bad)).exit_code == 1
    both = run("check-config", str(good), "-c", str(bad))
    assert both.exit_code == 2 and "give one" in both.output


def test_check_config_reports_unknown_part_kinds_at_their_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - name: a\n    kind: nope\n    system: x\n")
    result = run("check-config", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:3:" in result.output and "unknown source kind 'nope'" in result.output


def test_metrics_expose_every_documented_name(tmp_path, store, db_url):
    config = write_config(tmp_path, db_url)
    write_feed(tmp_path, [change("order", "O1", 1, total=1)])
    metrics = Metrics()
    engine = Engine(
        load_settings(config, {}), config_path=str(config), store=store, metrics=metrics
    )
    engine.run(once=True)
    app = WebApp(registry=metrics.registry, readiness=engine.readiness, webhook_secret=lambda: None)
    body = b"".join(
        app({"PATH_INFO": "/metrics", "REQUEST_METHOD": "GET"}, lambda status, headers: None)
    ).decode()
    for name in (
        "syncd_stream_last_success_timestamp_seconds",
        "syncd_stream_last_attempt_timestamp_seconds",
        "syncd_oldest_pending_change_timestamp_seconds",
        "syncd_apply_latency_seconds_bucket",
        "syncd_records_total",
        "syncd_commands_total",
        "syncd_outbox_pending",
        "syncd_dead_letters",
        "syncd_conflicts_open",
        "syncd_lease_held",
        "syncd_config_last_reload_successful",
        "syncd_config_last_reload_success_timestamp_seconds",
        "syncd_build_info",
        "syncd_store_up",
    ):
        assert f"\n# TYPE {name.removesuffix('_bucket').removesuffix('_total')} " in body or (
            f"\n{name}" in body
        ), name
    assert "# TYPE syncd_http_requests_total counter" in body
    assert 'syncd_records_total{outcome="created",stream="feed"} 1.0' in body
    assert 'syncd_apply_latency_seconds_count{direction="demo_to_files"} 1.0' in body


def test_bindings_show_prints_an_objects_ids_and_its_facts_unpacked(tmp_path, store, db_url):
    from syncd.store import bindings

    config = write_config(tmp_path, db_url)
    facts = {"base": {"fields": {"number": "ЗК-7"}, "stage": "agreed"}, "created": True}
    with store.begin() as conn:
        bindings.remember(conn, {("erp", "order", "R-7"): facts})
        bindings.record_write(
            conn, ("crm", "order", "R-7"), "f" * 32, origin=("erp", "order", "R-7"), remote_id="77"
        )

    shown = run("bindings", "show", "crm", "order", "R-7", "-c", str(config))
    assert shown.exit_code == 0, shown.output
    rows = {(r["system"], r["entity"]): r for r in json.loads(shown.stdout)}
    assert rows[("erp", "order")]["facts"] == facts
    assert rows[("crm", "order")]["remote_id"] == "77"
    missing = run("bindings", "show", "crm", "order", "R-8", "-c", str(config))
    assert missing.exit_code == 1 and "no binding crm order R-8" in missing.output
