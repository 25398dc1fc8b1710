"""Stock from the sandbox 1C to syncd's store and the sandbox CRM, on both databases.

The erp_stock source reads the stock register's Balance, the stock_sync flow
keeps the rows and plans the pushes, the retailcrm_inventory sink uploads
them: each step run once, in this process, on a SQLite and a PostgreSQL store.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from syncd.store import dead_letters, stock
from syncd_sandbox.crm_app import SandboxCrm
from tests.support.e2e import CRM_KEY
from tests.support.erp import erp_sandbox
from tests.support.serve import serving
from tests.support.stock import StockLine


@pytest.fixture
def world(tmp_path, store, db_url):
    with erp_sandbox(seed=False) as (erp, erp_url):
        erp.trade.seed(customers=2, items=3, orders=0, seed=7)
        crm = SandboxCrm([CRM_KEY], requests_per_second=None)
        with serving(crm) as crm_url:
            line = StockLine(tmp_path, store, db_url, erp_url, crm_url)
            yield erp, crm, line
            line.close()


def goods(erp) -> list[str]:  # noqa: ANN001
    return sorted(g["Ref_Key"] for g in erp.state.rows("Catalog_Номенклатура"))


def warehouses(erp) -> tuple[str, str]:  # noqa: ANN001
    main, shop = (w["Ref_Key"] for w in erp.state.rows("Catalog_Склады"))
    return main, shop


def kept(store) -> dict:  # noqa: ANN001
    with store.read() as conn:
        return stock.snapshot(conn)


def test_stock_in_1c_reaches_the_store_and_the_crm_only_for_offers_the_crm_knows(world):
    erp, crm, line = world
    items = goods(erp)
    crm.inventories.add_offers(items[:2])  # the CRM's catalogue lacks the third
    assert line.read().new_events == 3
    assert line.plan() == 3
    assert line.push() == 3
    on_hand = {
        r["Номенклатура_Key"]: Decimal(str(r["ВНаличии"]))
        for rs in erp.state.rows("AccumulationRegister_ТоварыНаСкладах")
        for r in rs["RecordSet"]
    }
    assert kept(line.store) == {(i, "main-store"): on_hand[i] for i in items}
    for item in items[:2]:
        assert crm.inventories.available(item) == {"main-store": float(on_hand[item])}
    assert crm.inventories.available(items[2]) == {}  # notFoundOffers: counted, not retried
    sample = line.metrics.inventory_offers.labels("crm_stock", "not_found")._value.get()
    assert sample == 1


def test_an_unchanged_read_makes_no_event_and_a_receipt_makes_one_offer_push(world):
    erp, crm, line = world
    items = goods(erp)
    crm.inventories.add_offers(items)
    main, _ = warehouses(erp)
    line.read(), line.plan(), line.push()
    uploads = crm.inventories.uploads
    assert line.read().new_events == 0  # 1C as syncd keeps it
    erp.trade.receive_stock(items[1], main, 7)
    assert line.read().new_events == 1
    assert line.plan() == 1 and line.push() == 1
    assert crm.inventories.uploads == uploads + 1
    before = kept(line.store)[(items[1], "main-store")]
    assert crm.inventories.available(items[1]) == {"main-store": float(before)}


def test_goods_ordered_out_lower_free_stock_and_a_row_gone_from_balance_is_zero(world):
    erp, crm, line = world
    items = goods(erp)
    crm.inventories.add_offers(items)
    main, _ = warehouses(erp)
    line.read(), line.plan(), line.push()
    on_hand = kept(line.store)[(items[0], "main-store")]
    erp.trade.plan_shipment(items[0], main, 2)
    line.read(), line.plan(), line.push()
    assert kept(line.store)[(items[0], "main-store")] == on_hand - 2
    # shipped out entirely: 1C's Balance leaves the row out; syncd reads it as 0
    erp.trade._move_stock(
        {"Ref_Key": "0c9b8e1a-0000-4000-8000-000000000001", "Date": erp.state.stamp(),
         "Склад_Key": main,
         "Товары": [{"Номенклатура_Key": items[0], "ВНаличии": float(on_hand),
                     "КОтгрузке": 2.0}]},
        "Expense",
    )  # fmt: skip
    assert line.read().new_events == 1
    line.plan(), line.push()
    assert kept(line.store)[(items[0], "main-store")] == 0
    assert crm.inventories.available(items[0]) == {"main-store": 0.0}


def test_an_unmapped_warehouse_is_set_aside_once_naming_it(world):
    erp, crm, line = world
    items = goods(erp)
    _, shop = warehouses(erp)
    erp.trade.receive_stock(items[0], shop, 4)
    first, second = line.read(), line.read()
    assert first.rejected == 1 and second.rejected == 0
    with line.store.read() as conn:
        (letter,) = dead_letters.list_open(conn)
    assert shop in letter.subject and "not in items.yaml stores" in letter.error
    line.plan()
    assert {store for _, store in kept(line.store)} == {"main-store"}  # the shop's stock aside
