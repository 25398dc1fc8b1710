"""Every source keeps the source contract (``tests/support/contracts.py``), each against its
own world: the sandbox 1C (exchange plan, date window, a store's receipts), the sandbox
CRM's history, a POS drop folder, a feed file."""

from __future__ import annotations

import itertools

import pytest

from syncd_sandbox.crm_app import SandboxCrm
from tests.support.contracts import SourceContract, SourceWorld
from tests.support.crm import history_source
from tests.support.daemon import ROOT, change, parts_of, write_feed
from tests.support.erp import (
    erp_parts,
    erp_sandbox,
    exchange_source,
    retail_source,
    window_source,
)
from tests.support.serve import serving

CRM_KEY = "contract-source-key-0000"
POS_HEADER = (
    "Чек;Магазин;Дата;Товар;Артикул;Количество;Цена;Сумма;Телефон;Email;Карта;Покупатель;Операция"
)


def new_site_order(app) -> str:  # noqa: ANN001
    partner = app.state.rows("Catalog_Партнеры")[0]["Ref_Key"]
    item = app.state.rows("Catalog_Номенклатура")[0]["Ref_Key"]
    return app.trade.new_site_order(partner, [(item, 1, 100.0)])["Ref_Key"]


class TestFeedFile(SourceContract):
    @pytest.fixture
    def world(self, tmp_path):
        spec = {
            "name": "feed",
            "kind": "feed_file",
            "system": "demo",
            "options": {"path": str(tmp_path / "feed.jsonl"), "batch_lines": 3},
        }
        write_feed(tmp_path, [])
        source = parts_of(tmp_path, sources=[spec]).sources["feed"]
        numbers = itertools.count(1)

        def one_change() -> str:
            key = f"K{next(numbers)}"
            write_feed(tmp_path, [change("thing", key, 1, n=key)], append=True)
            return key

        yield SourceWorld(source, one_change, {"thing"})


class TestPosDrop(SourceContract):
    @pytest.fixture
    def world(self, tmp_path):
        spec = {
            "name": "pos_msk",
            "kind": "pos_drop",
            "system": "pos",
            "options": {"path": str(tmp_path / "drop"), "group": "msk", "settle_seconds": 0},
        }
        extra = {"mappings_dir": str(ROOT / "mappings"), "flows": [], "sinks": {}}
        source = parts_of(tmp_path, sources=[spec], extra=extra).sources["pos_msk"]
        numbers = itertools.count(1)

        def one_change() -> str:
            n = next(numbers)
            row = f"R{n};Тверская;23.11.2026 10:15:00;Чайник;A-1;1;100;100;+79123456789;;;;Продажа"
            path = tmp_path / "drop" / "incoming" / f"sales-{n}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes("\r\n".join([POS_HEADER, row]).encode("cp1251"))
            return f"msk:R{n}"

        yield SourceWorld(source, one_change, {"receipt"})


class TestErpExchange(SourceContract):
    @pytest.fixture
    def world(self, tmp_path):
        with erp_sandbox() as (app, url):
            source = erp_parts(tmp_path, url, sources=[exchange_source(app)]).sources["erp_changes"]
            yield SourceWorld(source, lambda: new_site_order(app), {"order", "order_state"})


class TestErpWindow(SourceContract):
    @pytest.fixture
    def world(self, tmp_path):
        with erp_sandbox() as (app, url):
            source = erp_parts(tmp_path, url, sources=[window_source()]).sources["erp_orders"]
            yield SourceWorld(source, lambda: new_site_order(app), {"order"})


class TestRetailReceipts(SourceContract):
    @pytest.fixture
    def world(self, tmp_path, monkeypatch):
        with erp_sandbox() as (app, url):
            source = retail_source(tmp_path, url, monkeypatch)
            item = app.state.rows("Catalog_Номенклатура")[0]["Ref_Key"]

            def one_change() -> str:
                sold = app.trade.pos_receipt([(item, 1, 150.0)], phone="+79123456789")
                return f"msk:{sold['Ref_Key']}"

            yield SourceWorld(source, one_change, {"receipt"})


class TestCrmHistory(SourceContract):
    @pytest.fixture
    def world(self, tmp_path):
        crm = SandboxCrm([CRM_KEY], requests_per_second=None)
        with serving(crm) as url:
            env = {"SYNCD_CRM_URL": url, "SYNCD_CRM_API_KEY": CRM_KEY, "SYNCD_CRM_SITE": "main"}
            spec = history_source(requests_per_second=1000)
            source = parts_of(tmp_path, sources=[spec], env=env).sources["crm_orders"]
            numbers = itertools.count(1)

            def one_change() -> str:  # a manager creates an order in the CRM
                n = next(numbers)
                data = {"externalId": f"site-{n}", "status": "new", "firstName": f"Гость {n}"}
                created = crm.state.create("order", data, "main", "user")
                return str(created["id"])  # the CRM's events are by its own id

            yield SourceWorld(source, one_change, {"order"})
