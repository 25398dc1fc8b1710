"""Stock end to end: 1C's stock register reaches the CRM's inventories, the daemon as a process.

Both sandboxes over loopback; the daemon runs the erp_stock source, the
stock_sync flow and the retailcrm_inventory sink (on SQLite and PostgreSQL).
Goods received in 1C and goods ordered out of it change what the CRM shows;
an offer whose stock did not change is not pushed again.
"""

from __future__ import annotations

import pytest

from tests.conftest import wait_until
from tests.support.daemon import start_daemon, stop, write_config
from tests.support.e2e import both_sandboxes, e2e_env
from tests.support.stock import ITEMS, mappings_with_items, stock_parts

pytestmark = pytest.mark.slow


def on_hand(erp, item: str) -> float:  # noqa: ANN001
    total = 0.0
    for record_set in erp.state.rows("AccumulationRegister_ТоварыНаСкладах"):
        for r in record_set["RecordSet"]:
            if r["Номенклатура_Key"] == item:
                sign = -1 if r["RecordType"] == "Expense" else 1
                total += sign * (float(r["ВНаличии"]) - float(r["КОтгрузке"]))
    return total


def test_stock_changes_in_1c_reach_the_crms_inventories(tmp_path, db_url):
    with both_sandboxes(orders=0) as (erp, erp_url, crm, crm_url):
        goods = sorted(g["Ref_Key"] for g in erp.state.rows("Catalog_Номенклатура"))
        main = erp.state.rows("Catalog_Склады")[0]["Ref_Key"]
        crm.inventories.add_offers(goods)
        parts = stock_parts(interval=0.5)
        extra = {
            "mappings_dir": str(mappings_with_items(tmp_path / "mappings", ITEMS)),
            "erp": {"requests_per_second": 1000},
            "flows": parts["flows"],
            "sinks": parts["sinks"],
        }
        config = write_config(tmp_path, db_url, sources=parts["sources"], extra=extra)
        daemon = start_daemon(config, env=e2e_env(erp_url, crm_url))
        try:

            def shown(item: str) -> float | None:
                return crm.inventories.available(item).get("main-store")

            for item in goods:
                wait_until(lambda i=item: shown(i) == on_hand(erp, i), what=f"stock of {item}")
            uploads = crm.inventories.uploads

            erp.trade.receive_stock(goods[0], main, 6)  # goods arrive
            wait_until(lambda: shown(goods[0]) == on_hand(erp, goods[0]), what="the receipt")
            erp.trade.plan_shipment(goods[1], main, 1)  # an order takes one
            wait_until(lambda: shown(goods[1]) == on_hand(erp, goods[1]), what="less free")
            assert crm.inventories.uploads == uploads + 2  # the two changed offers only
            assert [shown(i) == on_hand(erp, i) for i in goods] == [True] * len(goods)
        finally:
            stop(daemon)
