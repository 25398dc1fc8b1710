"""The ops files (alert rules, Grafana dashboard, runbook) as the tests read them.

The PromQL in ``ops/`` is checked against what a running daemon really exports:
``Exposition`` is built from ``/metrics`` scrapes, and ``promql_problems`` names
every metric, label or label value an expression uses that the daemon does not
have.  A metric name is taken as a whole series name, the way PromQL sees it:
a counter only as ``<name>_total``, a histogram only as ``<name>_bucket``,
``_sum`` or ``_count``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support.paths import ROOT

RULES = ROOT / "ops" / "prometheus" / "syncd-alerts.yml"
RULE_TESTS = ROOT / "ops" / "prometheus" / "syncd-alerts.test.yml"
DASHBOARD = ROOT / "ops" / "grafana" / "syncd.json"
RUNBOOK = ROOT / "docs" / "runbook.md"

TARGET_LABELS = {"job", "instance"}  # added by Prometheus when it scrapes
SERIES_NAMES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
    "gauge": ("",),
    "info": ("_info",),
}
METRIC = re.compile(r"(?<![\w:])(syncd_[A-Za-z0-9_:]*)")
SELECTOR = re.compile(r"(?<![\w:])(syncd_[A-Za-z0-9_:]*)\s*\{([^}]*)\}")
MATCHER = re.compile(r'([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def tools_required() -> bool:
    """Whether a missing ops tool fails the test: under ``make test`` and ``.ci/run``
    (``SYNCD_REQUIRE_OPS_TOOLS=1``) and wherever ``CI`` is set to anything but a no."""
    ci = os.environ.get("CI", "").strip().lower()
    return os.environ.get("SYNCD_REQUIRE_OPS_TOOLS") == "1" or ci not in ("", "0", "false", "no")


def require_tool(name: str) -> str:
    """The tool's path; a failure when it is missing and required, a skip elsewhere."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed (scripts/ensure-ops-tools installs it)"
    if tools_required():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def alert_rules() -> list[dict]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def rule_expressions() -> dict[str, str]:
    """Where → PromQL, for every rule."""
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    found = {}
    for group in groups:
        for i, rule in enumerate(group["rules"]):
            name = rule.get("alert") or rule.get("record")
            found[f"{RULES.name}: {group['name']}[{i}] {name}"] = rule["expr"]
    return found


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def dashboard_panels(board: dict | None = None) -> list[dict]:
    board = board if board is not None else dashboard()
    panels = []
    for panel in board["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))  # a collapsed row holds its panels
    return panels


def dashboard_expressions(board: dict | None = None, *, templating: bool = True) -> dict[str, str]:
    """Where → query text, for every panel target and (optionally) variable query."""
    board = board if board is not None else dashboard()
    found = {}
    for panel in dashboard_panels(board):
        for target in panel.get("targets", []):
            if target.get("expr"):
                found[f"{DASHBOARD.name}: {panel['title']} [{target['refId']}]"] = target["expr"]
    if templating:
        for var in board.get("templating", {}).get("list", []):
            query = var.get("query")
            if isinstance(query, dict):
                query = query.get("query")
            if var.get("type") == "query" and query:
                found[f"{DASHBOARD.name}: variable ${var['name']}"] = query
    return found


@dataclass
class Exposition:
    """Series names, their label names and values, from one or more scrapes."""

    names: set[str] = field(default_factory=set)
    labels: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    values: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, text: str) -> None:
        for family in text_string_to_metric_families(text):
            for suffix in SERIES_NAMES.get(family.type, ("",)):
                self.names.add(family.name + suffix)
            for sample in family.samples:
                self.names.add(sample.name)
                for label, value in sample.labels.items():
                    self.labels[sample.name].add(label)
                    self.values[(sample.name, label)].add(value)

    def all_labels(self) -> set[str]:
        return set().union(*self.labels.values()) if self.labels else set()


def promql_problems(expressions: dict[str, str], exposition: Exposition) -> list[str]:
    """Each use of a metric, label or label value the daemon does not export."""
    problems = []
    known_labels = exposition.all_labels() | TARGET_LABELS
    for where, expr in expressions.items():
        for name in sorted(set(METRIC.findall(STRING.sub('""', expr)))):
            if name not in exposition.names:
                problems.append(f"{where}: no metric {name}")
        for selector in SELECTOR.finditer(expr):
            name, matchers = selector.groups()
            if name not in exposition.names:
                continue  # reported above
            for label, op, value in MATCHER.findall(matchers):
                if label in TARGET_LABELS:
                    continue
                if not exposition.labels.get(name):
                    problems.append(f"{where}: no series of {name} scraped to check {label}")
                elif label not in exposition.labels[name]:
                    problems.append(f"{where}: {name} has no label {label}")
                elif (
                    op == "=" and "$" not in value and value not in exposition.values[(name, label)]
                ):
                    problems.append(f'{where}: {name} never has {label}="{value}"')
        for grouping in GROUPING.findall(expr):
            for label in filter(None, (part.strip() for part in grouping.split(","))):
                if label not in known_labels:
                    problems.append(f"{where}: no syncd metric has a label {label}")
    return problems


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown document."""
    anchors: set[str] = set()
    seen: dict[str, int] = defaultdict(int)
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if fenced or not heading:
            continue
        text = re.sub(r"[`*~]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.group(1)).strip().lower()
        slug = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
        anchors.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return anchors


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))
