"""One 1C object, one event: the exchange package, a nudge's re-read, the date window
and a backfill read the same order into equal event data with the same fingerprint.

Run over the real-shaped fixtures (Atom with untyped scalars, JSON with native
flags and Int64 as text) and over the sandbox 1C, so switching paths never
produces a spurious change or a write.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from types import SimpleNamespace

import pytest

from syncd.backfill import ErpOrdersBackfill
from syncd_sandbox.erp_schema import EXCHANGE_PLAN
from tests.support.erp import erp_parts, erp_sandbox
from tests.support.recorded_erp import NODE, PLAN, recorded_erp

ORDERS = "Document_ЗаказКлиента"


@contextmanager
def a_1c(kind: str):  # noqa: ANN201
    """(OData URL, plan, node, the order to follow) of a recorded-shape 1C or the sandbox."""
    if kind == "recorded shape":
        with recorded_erp() as (_, url):
            yield url, PLAN, NODE, "fc3cc5d5-9cae-11ef-8bbf-00155d0a1c01"  # the cancelled-line one
    else:  # the sandbox, with untyped Atom scalars as recorded, or typed as some builds may
        with erp_sandbox(seed=False, atom_scalar_types=kind.endswith("m:type")) as (app, url):
            app.trade.seed(customers=3, items=4, orders=3, seed=5)
            yield url, EXCHANGE_PLAN, app.node, app.state.rows(ORDERS)[1]["Ref_Key"]


@pytest.mark.parametrize("kind", ["recorded shape", "sandbox", "sandbox with m:type"])
def test_one_order_read_four_ways_is_one_event(tmp_path, kind):
    with a_1c(kind) as (url, plan, node, ref):
        sources = [
            {
                "name": "erp_changes",
                "kind": "erp_exchange",
                "system": "erp",
                "options": {
                    "plan": plan,
                    "node": node,
                    "sets": {ORDERS: "order"},
                    "nudge_rereads_per_poll": 10,  # a nudge re-reads by key (JSON) first
                },
            },
            {
                "name": "erp_orders",
                "kind": "erp_window",
                "system": "erp",
                "options": {"set": ORDERS, "entity": "order", "first_lookback_seconds": 1e9},
            },
        ]
        parts = erp_parts(tmp_path, url, sources=sources)
        exchange, window = parts.sources["erp_changes"], parts.sources["erp_orders"]

        package = next(iter(exchange.poll(None)))
        nudge = f'{{"type": "{ORDERS}", "ref": "{ref}"}}'.encode()
        exchange.nudges.take(SimpleNamespace(body=nudge))
        nudged = next(iter(exchange.poll({"message_no": 1})))
        windowed = [e for batch in window.poll(None) for e in batch.events]
        backfill = ErpOrdersBackfill(
            "backfill_erp", exchange.client, datetime(2000, 1, 1), ORDERS, lambda n: None
        )
        backfilled = [e for batch in backfill.poll(None) for e in batch.events]

    def the_order(events: list) -> object:
        (event,) = [e for e in events if e.external_id == ref]
        return event

    paths = {
        "exchange package (Atom)": the_order(package.events),
        "nudge re-read (JSON by key)": the_order(nudged.events),
        "date window (JSON set)": the_order(windowed),
        "backfill (JSON set)": the_order(backfilled),
    }
    first = paths["exchange package (Atom)"]
    assert first.payload["data"]["Posted"] is True
    assert all(type(line["Отменено"]) is bool for line in first.payload["data"]["Товары"])
    for path, event in paths.items():
        assert event.payload["data"] == first.payload["data"], path
        assert event.payload["hash"] == first.payload["hash"], path
        assert (event.version, event.external_id) == (first.version, first.external_id), path
    assert not package.rejected and not nudged.rejected
