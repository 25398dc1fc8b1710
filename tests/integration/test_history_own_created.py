"""The orders syncd created come back once, as order_created, read from real-shaped answers.

The history page and the order are the recorded-shape fixtures (reference §4: a
``created`` record of the reading key carries the full order; others' records
a stub), served with ``responses``: no sandbox.  With ``own_created_as`` the
source hands the created order to the robot once, beside the ``order`` event
of the changes others made; without it, syncd's own records stay dropped.
"""

from __future__ import annotations

import json
import re

import pytest
import responses

from syncd.config import load_settings
from syncd.engine.contracts import PartContext
from syncd.engine.pipeline import build_pipeline
from syncd.metrics import Metrics
from tests.support.crm import history_source
from tests.support.daemon import write_config
from tests.support.paths import FIXTURES

URL = "https://shop.retailcrm.test"


def body(name: str) -> dict:
    return json.loads((FIXTURES / "retailcrm" / f"{name}.json").read_text("utf-8"))["body"]


def events(tmp_path, **options) -> list:  # noqa: ANN001, ANN003
    config = write_config(
        tmp_path,
        f"sqlite:///{tmp_path}/s.db",
        sources=[history_source(start="2000-01-01 00:00:00", **options)],
    )
    settings = load_settings(config, {"SYNCD_CRM_URL": URL, "SYNCD_CRM_API_KEY": "k" * 32})
    pipeline = build_pipeline(settings, PartContext(settings, Metrics()))
    try:
        return [e for b in pipeline.sources["crm_orders"].poll(None) for e in b.events]
    finally:
        pipeline.close()


@pytest.fixture
def crm():  # noqa: ANN201
    page = body("orders_history")
    page["pagination"] = {**page.get("pagination", {}), "totalPageCount": 1, "currentPage": 1}
    order = body("orders_get")["order"]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(re.compile(rf"{URL}/api/v5/orders/history.*"), json=page)
        listing = {"success": True, "orders": [order], "pagination": {"totalPageCount": 1,
                   "currentPage": 1, "limit": 100, "totalCount": 1}}  # fmt: skip
        mock.get(re.compile(rf"{URL}/api/v5/orders\?.*"), json=listing)
        yield mock


def test_the_created_record_of_the_reading_key_comes_back_once_as_order_created(tmp_path, crm):
    found = events(tmp_path, own_created_as="order_created")
    kinds = sorted((e.entity, e.external_id, e.version) for e in found)
    # the created record (70311, apiKey.current) once for the robot; others' changes
    # (the newest, 70350) as the order flow's event
    assert kinds == [("order", "4812", "70350"), ("order_created", "4812", "70311")]
    created = next(e for e in found if e.entity == "order_created")
    assert created.payload["externalId"] == "erp-7f3c2a10"  # the order re-read whole


def test_without_the_option_syncds_own_records_stay_dropped(tmp_path, crm):
    found = events(tmp_path)
    assert [(e.entity, e.version) for e in found] == [("order", "70350")]
