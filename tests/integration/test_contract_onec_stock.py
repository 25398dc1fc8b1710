"""1C stock contract: the same assertions over a real-shaped Balance answer and the sandbox.

``tests/fixtures/onec/stock_metadata.xml`` is the stock register's part of a
УТ 11.5 ``$metadata`` (reference §0 item 25, §1.5 virtual tables) and
``stock_balance.json`` a ``…/AccumulationRegister_ТоварыНаСкладах/Balance(…)``
answer.  Each contract test runs over those and over the sandbox 1C's live
answers, so the sandbox cannot drift from the real shapes; the sandbox's own
virtual-table behaviour (Condition, Dimensions, ``$skip``, ``$top``) follows.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
import requests
from defusedxml import ElementTree

from syncd.connectors.onec.errors import ErpRequestError
from syncd.connectors.onec.metadata import Metadata
from syncd.connectors.onec.stock_balance import (
    Formula,
    balance_path,
    balance_type,
    free_stock,
    read_free_stock,
)
from tests.support.erp import PASSWORD, USER, erp_client, erp_sandbox
from tests.support.recorded_erp import fixture

REGISTER = "AccumulationRegister_ТоварыНаСкладах"
DIMENSIONS = ("Номенклатура", "Характеристика", "Склад")
EDM = "{http://schemas.microsoft.com/ado/2009/11/edm}"
BALANCES = ("ВНаличииBalance", "КОтгрузкеBalance")


@dataclass
class Answers:
    metadata: bytes
    balance: dict


def recorded() -> Answers:
    return Answers(fixture("stock_metadata.xml"), json.loads(fixture("stock_balance.json")))


def sandbox() -> Answers:
    with erp_sandbox(seed=False) as (app, url):
        app.trade.seed(customers=1, items=3, orders=0, seed=3)
        goods = [g["Ref_Key"] for g in app.state.rows("Catalog_Номенклатура")]
        stores = [s["Ref_Key"] for s in app.state.rows("Catalog_Склады")]
        app.trade.receive_stock(goods[0], stores[1], 3, characteristic=str(uuid.uuid4()))
        app.trade.plan_shipment(goods[1], stores[0], 2)
        http = requests.Session()
        http.auth = (USER.encode(), PASSWORD.encode())
        path = balance_path(REGISTER, DIMENSIONS, None)
        return Answers(
            http.get(url + "$metadata").content,
            http.get(url + path, params={"$format": "json"}).json(),
        )


@pytest.fixture(scope="module", params=["recorded shape", "sandbox"])
def answers(request: pytest.FixtureRequest) -> Answers:
    return recorded() if request.param == "recorded shape" else sandbox()


def test_metadata_publishes_balance_as_a_bindable_function_of_the_register(answers):
    root = ElementTree.fromstring(answers.metadata)
    functions = [e for e in root.iter(f"{EDM}FunctionImport") if e.get("Name") == "Balance"]
    bound = [
        f
        for f in functions
        if any(p.get("Type") == f"Collection(StandardODATA.{REGISTER})" for p in f)
    ]
    assert len(bound) == 1
    balance = bound[0]
    assert balance.get("IsBindable") == "true" and balance.get("IsSideEffecting") == "false"
    assert balance.get("ReturnType") == f"Collection(StandardODATA.{REGISTER}_Balance)"
    assert {p.get("Name") for p in balance} == {
        "bindingParameter", "Period", "Condition", "Dimensions"
    }  # fmt: skip


def test_metadata_balance_rows_carry_dimension_keys_and_resource_balances(answers):
    meta = Metadata.parse(answers.metadata)
    row = balance_type(meta, REGISTER)
    every = ("Номенклатура", "Характеристика", "Назначение", "Склад", "Помещение", "Серия")
    for dimension in every:
        assert row.type_of(f"{dimension}_Key") == "Edm.Guid"
    assert row.type_of("ВНаличииBalance") == row.type_of("КОтгрузкеBalance") == "Edm.Double"
    records = meta.entity(REGISTER).tabular("RecordSet")
    assert records.type_of("ВНаличии") == "Edm.Double"
    assert records.type_of("Склад_Key") == "Edm.Guid"


def test_balance_answer_is_a_value_list_of_the_asked_dimensions_with_numbers(answers):
    assert answers.balance["odata.metadata"].endswith(f"$metadata#{REGISTER}_Balance")
    rows = answers.balance["value"]
    assert rows
    for row in rows:
        assert set(row) == {f"{d}_Key" for d in DIMENSIONS} | set(BALANCES)
        assert all(isinstance(row[r], int | float) for r in BALANCES)
        assert any(row[r] for r in BALANCES)  # no zero rows


def test_balance_rows_read_as_free_stock_on_hand_less_to_ship(answers):
    row_type = balance_type(Metadata.parse(answers.metadata), REGISTER)
    rows, bad = free_stock(answers.balance["value"], row_type, Formula(), "Balance")
    assert not bad and len(rows) == len(answers.balance["value"])
    for row, raw in zip(rows, answers.balance["value"], strict=True):
        expected = Decimal(str(raw["ВНаличииBalance"])) - Decimal(str(raw["КОтгрузкеBalance"]))
        assert row.free == max(expected, Decimal(0))
        empty = raw["Характеристика_Key"] == "00000000-0000-0000-0000-000000000000"
        assert (row.characteristic is None) == empty


# -- the sandbox's virtual table -----------------------------------------------------------


def test_balance_sums_receipts_and_expenses_by_the_asked_dimensions_and_condition():
    with erp_sandbox(seed=False) as (app, url):
        app.trade.seed(customers=1, items=2, orders=0, seed=3)
        goods = [g["Ref_Key"] for g in app.state.rows("Catalog_Номенклатура")]
        main, shop = [s["Ref_Key"] for s in app.state.rows("Catalog_Склады")]
        app.trade.receive_stock(goods[0], shop, 4)
        app.trade.receive_stock(goods[0], shop, 1.5)
        app.trade.plan_shipment(goods[0], shop, 2)
        client = erp_client(url)
        condition = f"Склад_Key eq guid'{shop}'"
        rows, bad = read_free_stock(client, REGISTER, Formula(), condition)
        by_item = client.get_json(balance_path(REGISTER, ("Номенклатура",), None))["value"]
    assert not bad
    assert [(r.item, r.warehouse, r.free) for r in rows] == [(goods[0], shop, Decimal("3.5"))]
    assert {r["Номенклатура_Key"] for r in by_item} == set(goods)
    assert all(set(r) == {"Номенклатура_Key", *BALANCES} for r in by_item)


def test_balance_refuses_skip_ignores_orderby_and_top_is_no_cursor():
    with erp_sandbox(seed=False) as (app, url):
        app.trade.seed(customers=1, items=12, orders=0, seed=3)
        client = erp_client(url)
        path = balance_path(REGISTER, DIMENSIONS, None)
        with pytest.raises(ErpRequestError) as skipped:
            client.get_json(path, {"$skip": 2, "$top": 2})
        everything = client.get_json(path, {"$orderby": "ВНаличииBalance desc"})["value"]
        subsets = {
            tuple(r["Номенклатура_Key"] for r in client.get_json(path, {"$top": 3})["value"])
            for _ in range(6)
        }
    assert skipped.value.status == 400 and skipped.value.code == 14
    assert len(everything) == 12
    assert all(len(s) == 3 for s in subsets) and len(subsets) > 1  # arbitrary, not a page


def test_a_dimension_the_register_lacks_is_refused_naming_it():
    with erp_sandbox() as (_, url), pytest.raises(ErpRequestError, match="Размер"):
        erp_client(url).get_json(balance_path(REGISTER, ("Размер",), None))
