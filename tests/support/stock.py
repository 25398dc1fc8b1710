"""Stock from the sandbox 1C to the sandbox CRM, run in this process on a test store.

``StockLine`` builds the erp_stock source, the stock_sync flow and the
retailcrm_inventory sink from a config (items.yaml in a mappings folder of
its own), with the daemon's store handed to the source, and runs them one
step at a time: read 1C, plan, push.

    line = StockLine(tmp_path, store, db_url, erp_url, crm_url, items=ITEMS)
    line.read(); line.plan(); line.push()
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from syncd.config import load_settings
from syncd.engine.applying import apply_claims, claim_for
from syncd.engine.contracts import PartContext
from syncd.engine.pipeline import build_pipeline
from syncd.engine.planning import plan_pending
from syncd.engine.retry import RetryPolicy
from syncd.engine.sourcing import SourceRun, run_source
from syncd.metrics import Metrics
from syncd.store import Store, leases
from tests.support.daemon import ROOT, write_config
from tests.support.e2e import e2e_env

ITEMS = {
    "site": None,
    "unmapped_items": "ref_key",
    "stores": [{"warehouse_code": "00000000001", "store": "main-store"}],
}


def stock_parts(interval: float = 60.0, **source_options: Any) -> dict:
    """The config entries of a stock line: source, flow, sink."""
    return {
        "sources": [
            {
                "name": "erp_stock",
                "kind": "erp_stock",
                "system": "erp",
                "interval_seconds": interval,
                "options": source_options,
            }
        ],
        "flows": [
            {
                "name": "stock_to_crm",
                "kind": "stock_sync",
                "source_system": "erp",
                "entities": ["stock"],
                "target": "crm_stock",
            }
        ],
        "sinks": {
            "crm_stock": {
                "kind": "retailcrm_inventory",
                "system": "crm",
                "options": {"requests_per_second": 1000},
            }
        },
    }


def mappings_with_items(folder: Path, items: dict) -> Path:
    shutil.copytree(ROOT / "mappings", folder)
    (folder / "items.yaml").write_text(yaml.safe_dump(items, allow_unicode=True), "utf-8")
    return folder


class StockLine:
    def __init__(
        self,
        tmp: Path,
        store: Store,
        db_url: str,
        erp_url: str,
        crm_url: str,
        items: dict | None = None,
        **source_options: Any,
    ) -> None:
        self.store = store
        parts = stock_parts(**source_options)
        extra = {
            "mappings_dir": str(mappings_with_items(tmp / "mappings", items or ITEMS)),
            "erp": {"requests_per_second": 1000, "max_concurrency": 4},
            "flows": parts["flows"],
            "sinks": parts["sinks"],
        }
        config = write_config(tmp, db_url, sources=parts["sources"], extra=extra)
        self.settings = load_settings(config, e2e_env(erp_url, crm_url))
        self.metrics = Metrics()
        context = PartContext(self.settings, self.metrics, store=store)
        self.pipeline = build_pipeline(self.settings, context)
        self.source = self.pipeline.sources["erp_stock"]
        self.sink = self.pipeline.sinks["crm_stock"]
        with store.begin() as conn:
            self.stream = leases.acquire(conn, "source:erp_stock", "test", 600)
            self.inbox = leases.acquire(conn, "inbox", "test", 600)

    def read(self) -> SourceRun:
        run = run_source(self.store, self.source, self.stream)
        assert run.ok, run.error
        return run

    def plan(self) -> int:
        commands = 0
        while True:
            round_ = plan_pending(self.store, self.pipeline, self.inbox, 500)
            commands += round_.commands
            if not round_.events:
                return commands

    def push(self) -> int:
        policy = RetryPolicy.from_settings(self.settings.engine.retry)
        pushed = 0
        while claims := claim_for(self.store, self.sink, "test", 60):
            pushed += apply_claims(self.store, self.sink, claims, policy).applied
        return pushed

    def close(self) -> None:
        self.pipeline.close()
