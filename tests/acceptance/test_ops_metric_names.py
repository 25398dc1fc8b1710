"""Every metric the alert rules and the dashboard use is one a running daemon exports.

A real ``syncd run`` against both sandboxes is scraped twice: first while the
CRM answers every request 503 (so changes wait: the backlog series exist),
then after it recovers and a POS file with a bad row arrives (so the latency
histogram, the applied commands and the POS counters exist).  The PromQL in
ops/ is then checked name by name, label by label, against those scrapes.
"""

from __future__ import annotations

import subprocess

import pytest
import requests

from tests.conftest import wait_until
from tests.support.daemon import logged, start_daemon, stop
from tests.support.e2e import both_sandboxes, e2e_env, order_config
from tests.support.ops import (
    Exposition,
    dashboard_expressions,
    promql_problems,
    rule_expressions,
)

pytestmark = pytest.mark.slow
POS_HEADER = "Чек;Магазин;Дата;Товар;Артикул;Количество;Цена;Сумма;Телефон;Email;Карта;Покупатель"


def scrape(port: int) -> str:
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    response.raise_for_status()
    return response.text


def series(text: str, name: str, **labels: str) -> bool:
    """Whether the scrape holds a sample of ``name`` with these labels."""
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    return any(
        line.startswith(name + "{") and all(w in line for w in wanted) for line in text.splitlines()
    )


@pytest.fixture(scope="module")
def exposition(tmp_path_factory) -> Exposition:
    tmp = tmp_path_factory.mktemp("ops-metrics")
    db_url = f"sqlite:///{tmp / 'state' / 'syncd.db'}"
    scraped = Exposition()
    with both_sandboxes() as (erp, erp_url, crm, crm_url):
        crm.faults.unavailable = 1.0  # every CRM request is turned away: changes wait
        config = order_config(tmp, db_url, erp, interval=0.2, pos=tmp / "pos")
        daemon = start_daemon(config, env=e2e_env(erp_url, crm_url))
        try:
            port = wait_until(
                lambda: (r := logged(config.with_suffix(".log"), "http listening")) and r["port"],
                what="the HTTP server",
            )
            waiting = wait_until(
                lambda: (
                    (text := scrape(port))
                    and series(text, "syncd_oldest_pending_change_timestamp_seconds")
                    and series(text, "syncd_outbox_pending", sink="crm")
                    and series(text, "syncd_http_requests_total", system="crm", code="503")
                    and text
                ),
                timeout=60,
                what="changes waiting for the CRM",
            )
            scraped.add(waiting)

            crm.faults.unavailable = 0.0
            incoming = tmp / "pos" / "incoming"
            incoming.mkdir(parents=True, exist_ok=True)
            (incoming / "day.csv").write_bytes(
                "\n".join(
                    [
                        POS_HEADER,
                        "R1;Тверская;23.11.2026 10:15:00;Чайник;A-1;1;1500;1500;;;;",
                        "R2;Тверская;23.11.2026 10:20:00;Утюг;A-3;1;100;сто;;;;",
                    ]
                ).encode("cp1251")
            )
            flowing = wait_until(
                lambda: (
                    (text := scrape(port))
                    and series(text, "syncd_apply_latency_seconds_bucket", direction="erp_to_crm")
                    and series(text, "syncd_commands_total", outcome="applied")
                    and series(text, "syncd_http_requests_total", system="crm", code="200")
                    and series(text, "syncd_http_requests_total", system="erp", code="200")
                    and series(text, "syncd_pos_files_total", outcome="done")
                    and series(text, "syncd_pos_rows_rejected_total", field="amount")
                    and all(
                        series(text, "syncd_stream_last_success_timestamp_seconds", stream=s)
                        for s in ("erp_changes", "crm_orders", "pos_msk")
                    )
                    and series(text, "syncd_lease_held", stream="inbox")
                    and text
                ),
                timeout=90,
                what="changes applied after the CRM recovered, and the POS file read",
            )
            scraped.add(flowing)
        finally:
            try:
                exit_code = stop(daemon)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait(10)
                raise
    assert exit_code == 0, "the daemon did not stop cleanly"
    return scraped


def test_the_alert_rules_use_only_metrics_the_daemon_exports(exposition):
    expressions = rule_expressions()
    assert len(expressions) >= 10
    assert promql_problems(expressions, exposition) == []


def test_the_dashboard_uses_only_metrics_the_daemon_exports(exposition):
    expressions = dashboard_expressions()
    assert len(expressions) >= 10
    assert promql_problems(expressions, exposition) == []


TYPOS = [  # (file, right, wrong, what the check says)
    ("rules", "syncd_dead_letters", "syncd_dead_letter", "no metric syncd_dead_letter"),
    ("rules", "syncd_http_requests_total", "syncd_http_requests", "no metric syncd_http_requests"),
    (
        "rules",
        'system="erp"',
        'system="1c"',
        'syncd_http_requests_total never has system="1c"',
    ),
    ("rules", "by (job, stream)", "by (job, streams)", "no syncd metric has a label streams"),
    (
        "dashboard",
        "syncd_apply_latency_seconds_bucket",
        "syncd_apply_latency_bucket",
        "no metric syncd_apply_latency_bucket",
    ),
    (
        "dashboard",
        "syncd_conflicts_open{",
        "syncd_conflicts_open_count{",
        "no metric syncd_conflicts_open_count",
    ),
    (
        "dashboard",
        "syncd_outbox_commands{",
        'syncd_outbox_commands{stat=~".+", ',
        "syncd_outbox_commands has no label stat",
    ),
    (
        "dashboard",
        'label_values(syncd_build_info{job=~"$job"}, instance)',
        'label_values(syncd_buildinfo{job=~"$job"}, instance)',
        "no metric syncd_buildinfo",
    ),
]


@pytest.mark.parametrize(("where", "right", "wrong", "said"), TYPOS)
def test_a_misspelling_in_the_ops_files_is_caught(exposition, where, right, wrong, said):
    expressions = rule_expressions() if where == "rules" else dashboard_expressions()
    place = next(w for w, expr in expressions.items() if right in expr)
    expressions[place] = expressions[place].replace(right, wrong)
    problems = promql_problems(expressions, exposition)
    assert problems and set(problems) == {f"{place}: {said}"}


def test_a_histogram_is_known_only_by_its_series_names(exposition):
    """PromQL sees a histogram as _bucket, _sum and _count and a counter only with _total."""
    for name in (
        "syncd_apply_latency_seconds_bucket",
        "syncd_apply_latency_seconds_sum",
        "syncd_apply_latency_seconds_count",
        "syncd_records_total",
    ):
        assert name in exposition.names
    for name in ("syncd_apply_latency_seconds", "syncd_records", "syncd_conflicts_open_bucket"):
        assert name not in exposition.names
    assert "le" in exposition.labels["syncd_apply_latency_seconds_bucket"]
