"""Alert rules and dashboard: promtool accepts them; every alert is tested and documented."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.ops import (
    DASHBOARD,
    RULE_TESTS,
    RULES,
    RUNBOOK,
    alert_rules,
    dashboard,
    dashboard_expressions,
    dashboard_panels,
    github_anchors,
    load_yaml,
    require_tool,
)

RUNBOOK_BASE = "https://github.com/your-org/syncd/blob/main/docs/runbook.md#"
# what Grafana puts in place of its variables, so a dashboard query is plain PromQL
GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$job": ".*",
    "$instance": ".*",
}


@pytest.fixture(scope="module")
def promtool() -> str:
    return require_tool("promtool")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def test_promtool_accepts_the_alert_rules(promtool):
    done = run(promtool, "check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in done.stdout


def test_the_alert_rule_unit_tests_pass(promtool):
    done = run(promtool, "test", "rules", str(RULE_TESTS))
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_rejects_a_broken_rule(promtool, tmp_path):
    """The check above can fail: a rule with a PromQL syntax error does not pass."""
    broken = RULES.read_text(encoding="utf-8").replace(
        "expr: syncd_store_up == 0", "expr: syncd_store_up == == 0"
    )
    assert broken != RULES.read_text(encoding="utf-8")
    path = tmp_path / "broken.yml"
    path.write_text(broken, encoding="utf-8")
    done = run(promtool, "check", "rules", str(path))
    assert done.returncode != 0


def test_every_dashboard_query_is_valid_promql(promtool, tmp_path):
    """Each panel's query, with Grafana's variables filled in, parses as a recording rule."""
    queries = dashboard_expressions(templating=False)
    assert len(queries) >= 10
    rules = []
    for i, (where, expr) in enumerate(sorted(queries.items())):
        for variable in sorted(GRAFANA_VARIABLES, key=len, reverse=True):
            expr = expr.replace(variable, GRAFANA_VARIABLES[variable])
        assert "$" not in expr, f"{where}: a Grafana variable the test does not know: {expr}"
        rules.append({"record": f"syncd_dashboard:query_{i}", "expr": expr})
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    done = run(promtool, "check", "rules", str(path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_a_summary_a_description_and_a_runbook_section():
    anchors = github_anchors(RUNBOOK.read_text(encoding="utf-8"))
    rules = alert_rules()
    assert len(rules) >= 10
    for rule in rules:
        notes = rule.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            assert str(notes.get(key, "")).strip(), f"{rule['alert']} has no {key}"
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        url = notes["runbook_url"]
        assert url.startswith(RUNBOOK_BASE), f"{rule['alert']}: {url} is not under the runbook"
        anchor = url.removeprefix(RUNBOOK_BASE)
        assert anchor in anchors, f"{rule['alert']}: docs/runbook.md has no section #{anchor}"
        assert anchor == rule["alert"].lower(), f"{rule['alert']} links to another alert's section"


def test_the_runbook_anchor_check_sees_headings_as_github_does():
    text = "# Runbook\n## SyncdDown\n```sh\n# not a heading\n```\n### What `syncd status` shows\n"
    assert github_anchors(text) == {"runbook", "syncddown", "what-syncd-status-shows"}


def test_every_alert_has_a_firing_and_a_silent_test_case():
    tests = load_yaml(RULE_TESTS)["tests"]
    assert load_yaml(RULE_TESTS)["rule_files"] == [RULES.name]
    cases: dict[str, set[str]] = {}
    for group in tests:
        for case in group.get("alert_rule_test", []):
            outcome = "firing" if case.get("exp_alerts") else "silent"
            cases.setdefault(case["alertname"], set()).add(outcome)
    for name in {rule["alert"] for rule in alert_rules()}:
        assert cases.get(name) == {"firing", "silent"}, f"{name}: test cases {cases.get(name)}"


def test_the_dashboard_is_importable_with_a_datasource_and_an_instance_variable():
    board = dashboard()
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["instance"]["multi"] and variables["instance"]["includeAll"]
    panels = dashboard_panels(board)
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in panels:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
            assert 'instance=~"$instance"' in target["expr"], f"{panel['title']}: not per instance"


def test_dashboard_panels_do_not_overlap():
    cells: dict[tuple[int, int], str] = {}
    for panel in dashboard_panels():
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


def test_the_dashboard_shows_what_operators_need():
    queries = " ".join(dashboard_expressions().values())
    for needed in (
        r"time\(\) - min by \(direction\) \(syncd_oldest_pending_change_timestamp_seconds",
        r"syncd_stream_last_success_timestamp_seconds",
        r"syncd_outbox_pending",
        r"syncd_dead_letters",
        r"syncd_conflicts_open",
        r"histogram_quantile\(0\.99, sum by \(le, direction\) \(rate\("
        r"syncd_apply_latency_seconds_bucket",
        r"sum by \(system, code\) \(rate\(syncd_http_requests_total",
        r"syncd_lease_held",
    ):
        assert re.search(needed, queries), needed


def test_the_ops_files_live_where_the_docs_say():
    operations = (Path(RUNBOOK).parent / "operations.md").read_text(encoding="utf-8")
    for path in (RULES, RULE_TESTS, DASHBOARD, RUNBOOK):
        relative = path.relative_to(RULES.parents[2]).as_posix()
        assert relative in operations, f"docs/operations.md does not mention {relative}"


@pytest.mark.parametrize(
    ("env", "required"),
    [
        ({"SYNCD_REQUIRE_OPS_TOOLS": "1"}, True),  # make test, .ci/run
        ({"CI": "true"}, True),
        ({"CI": "1"}, True),  # what GitLab and others set
        ({"CI": "yes"}, True),
        ({"CI": "false"}, False),
        ({}, False),  # a developer's pytest: skipped with the reason
    ],
)
def test_a_missing_ops_tool_fails_wherever_the_suite_is_run_for_real(monkeypatch, env, required):
    for name in ("SYNCD_REQUIRE_OPS_TOOLS", "CI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PATH", "/nonexistent")
    outcome = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(outcome, match="promtool is not installed"):
        require_tool("promtool")
