"""Every sink keeps the sink contract (``tests/support/contracts.py``), each against its
own world: the sandbox 1C, the sandbox CRM, a folder."""

from __future__ import annotations

import json

import pytest

from syncd.model import Command
from tests.support.contracts import SinkContract, SinkWorld
from tests.support.daemon import parts_of
from tests.support.erp import ORDERS, erp_parts, erp_sandbox

CRM_KEY = "contract-sink-key-000000"


class TestDirectorySink(SinkContract):
    @pytest.fixture
    def world(self, tmp_path):
        sink = parts_of(tmp_path).sinks["out"]

        def command(n: int) -> Command:
            return Command("out", "thing", f"k{n}", "upsert", {"n": n}, f"contract:{n}", id=n)

        def written() -> dict:
            files = sorted((tmp_path / "out").rglob("*.json"))
            return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in files}

        yield SinkWorld(sink, command, written, declares_actions=False)


class TestErpSink(SinkContract):
    """Agreeing waiting orders (set_status: status, Post, verify)."""

    @pytest.fixture
    def world(self, tmp_path):
        with erp_sandbox() as (app, url):
            sink = erp_parts(tmp_path, url, sinks={"erp": {"kind": "erp", "system": "erp"}})
            waiting = [o for o in app.state.rows(ORDERS) if o["Статус"] == "НеСогласован"]

            def command(n: int) -> Command:
                order = waiting[n - 1]
                payload = {
                    "set": ORDERS,
                    "fields": {"Статус": "КОбеспечению"},
                    "expected_version": order["DataVersion"],
                    "post": True,
                }
                key = order["Ref_Key"]
                return Command("erp", "order", key, "set_status", payload, f"contract:{n}", id=n)

            def written() -> list:
                rows = app.state.rows(ORDERS)
                return sorted(
                    (o["Ref_Key"], o["Статус"], o["Posted"], o["DataVersion"]) for o in rows
                )

            yield SinkWorld(sink.sinks["erp"], command, written)


class TestCrmSink(SinkContract):
    """Creating orders by externalId (upsert)."""

    @pytest.fixture
    def world(self, tmp_path):
        from syncd_sandbox.crm_app import SandboxCrm
        from tests.support.serve import serving

        crm = SandboxCrm([CRM_KEY], requests_per_second=None)
        with serving(crm) as url:
            env = {"SYNCD_CRM_URL": url, "SYNCD_CRM_API_KEY": CRM_KEY, "SYNCD_CRM_SITE": "main"}
            sinks = {
                "crm": {
                    "kind": "retailcrm",
                    "system": "crm",
                    "options": {"requests_per_second": 1000},
                }
            }
            extra = {"flows": [], "sinks": sinks}
            sink = parts_of(tmp_path, sources=[], extra=extra, env=env).sinks["crm"]

            def command(n: int) -> Command:
                order = {"status": "new", "firstName": f"Покупатель {n}", "items": []}
                key = f"contract-{n}"
                return Command("crm", "order", key, "upsert", order, f"contract:{n}", id=n)

            def written() -> tuple:
                with crm.state.lock:
                    orders = sorted(
                        (o.get("externalId"), o.get("status"), o.get("firstName"))
                        for o in crm.state.records["order"].values()
                    )
                    return orders, len(crm.state.history["order"])

            yield SinkWorld(sink, command, written)
