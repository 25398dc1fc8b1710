"""The CRM account's zone: one setting (``crm.timezone``) for every part, and the sandbox CRM
writes its dates in its own account zone, never the host's (UTC here)."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from syncd_sandbox.crm_app import SandboxCrm
from tests.support.daemon import ROOT, parts_of

VLADIVOSTOK = "Asia/Vladivostok"


def flows(tmp_path, crm: dict | None = None, **order_options):
    """An order flow and a purchase-history flow built from a config."""
    flow = {"source_system": "erp", "target": "out"}
    extra = {
        "mappings_dir": str(ROOT / "mappings"),
        "flows": [
            {"name": "orders", "kind": "order_sync", **flow, "options": order_options},
            {"name": "purchases", "kind": "purchase_history", **flow},
        ],
    }
    if crm:
        extra["crm"] = crm
    built = parts_of(tmp_path, extra=extra)
    return {f.name: f for f in built.flows}


def test_every_mapped_flow_reads_and_writes_crm_dates_in_crm_timezone(tmp_path):
    built = flows(tmp_path, crm={"timezone": VLADIVOSTOK})
    assert built["orders"].zones.crm == ZoneInfo(VLADIVOSTOK)
    receipt = {"at": "2026-11-23T10:00:00+00:00", "items": []}
    order = built["purchases"].crm_order(receipt, "customer-1")
    assert order["createdAt"] == "2026-11-23 20:00:00"  # 10:00 UTC is 20:00 in Vladivostok


def test_the_default_zone_is_moscow(tmp_path):
    built = flows(tmp_path)
    assert built["orders"].zones.crm == ZoneInfo("Europe/Moscow")


def test_the_deprecated_crm_timezone_of_a_flow_still_wins_for_it_with_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="syncd.config"):
        built = flows(tmp_path, crm_timezone=VLADIVOSTOK)
    assert built["orders"].zones.crm == ZoneInfo(VLADIVOSTOK)
    assert built["purchases"].zones.crm == ZoneInfo("Europe/Moscow")
    assert any(
        "flow orders: options.crm_timezone is deprecated: set crm.timezone" in r.getMessage()
        for r in caplog.records
    )


def test_the_sandbox_crm_writes_its_dates_in_the_account_zone_not_the_hosts():
    crm = SandboxCrm(["k"], requests_per_second=None, timezone=VLADIVOSTOK)
    zone = ZoneInfo(VLADIVOSTOK)
    before = datetime.now(zone).strftime("%Y-%m-%d %H:%M:%S")
    order = crm.state.create("order", {"firstName": "Анна"}, None, author="user")
    after = datetime.now(zone).strftime("%Y-%m-%d %H:%M:%S")
    (record,) = crm.state.history["order"]
    assert before <= order["createdAt"] <= after
    assert before <= record["createdAt"] <= after
    status, body = crm.handle(
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/api/v5/orders/history", "HTTP_X_API_KEY": "k"}
    )
    assert status == 200
    assert before <= body["generatedAt"] <= datetime.now(zone).strftime("%Y-%m-%d %H:%M:%S")
