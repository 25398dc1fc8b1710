"""The sandbox 1C answers like a published УТ 11 base (contract tests over loopback)."""

from __future__ import annotations

import pytest
import requests

from syncd.connectors.onec.errors import (
    ErpAccessDenied,
    ErpBusinessRefusal,
    ErpNotFound,
    ErpRequestError,
    ErpUnavailable,
)
from syncd.connectors.onec.odata import ODataClient
from syncd.connectors.onec.values import eq
from tests.support.erp import ORDERS, PASSWORD, USER, erp_client, erp_sandbox

STATES = "InformationRegister_СостоянияЗаказовКлиентов"


def test_metadata_lists_the_objects_syncd_needs_with_their_conventions():
    with erp_sandbox() as (_, url):
        meta = erp_client(url).metadata()
    orders = meta.entity(ORDERS)
    assert orders.key == ["Ref_Key"]
    assert orders.type_of("Статус") == "Edm.String" and "Партнер" in orders.references
    assert orders.tabular("Товары").type_of("КодСтроки") == "Edm.Int64"
    assert meta.entity("InformationRegister_СостоянияЗаказовКлиентов").composites == {"Заказ"}
    # as a real publication: platform enums only, configuration enums are plain strings
    assert "СтатусыЗаказовКлиентов" not in meta.enums and "AccumulationRecordType" in meta.enums
    assert {"Post", "Unpost"} <= meta.functions


def test_int64_comes_as_a_string_and_dates_carry_no_zone():
    with erp_sandbox() as (_, url):
        order = erp_client(url).get_json(ORDERS, {"$top": 1})["value"][0]
    assert isinstance(order["Товары"][0]["КодСтроки"], str)
    assert len(order["Date"]) == 19 and "+" not in order["Date"]
    assert order["ДатаОтгрузки"] == "0001-01-01T00:00:00"


def test_inlinecount_makes_the_sandbox_ignore_skip_and_top_and_the_count_is_a_string():
    with erp_sandbox() as (_, url):
        client = erp_client(url)
        paged = client.get_json(ORDERS, {"$top": 2, "$skip": 1})
        counted = client.get_json(ORDERS, {"$top": 2, "$skip": 1, "$inlinecount": "allpages"})
    assert len(paged["value"]) == 2
    assert counted["odata.count"] == "5" and len(counted["value"]) == 5


def test_paging_by_the_full_key_returns_every_entry_once_with_small_pages():
    with erp_sandbox() as (app, url):
        app.trade.seed(customers=3, items=3, orders=23, seed=5)
        client = erp_client(url, page_size=4)
        refs = [o["Ref_Key"] for o in client.entities(ORDERS, client.metadata())]
    assert len(refs) == len(set(refs)) == 28


def test_errors_carry_1c_codes():
    with erp_sandbox() as (_, url):
        client = erp_client(url)
        with pytest.raises(ErpRequestError) as unknown_set:
            client.get_json("Document_НетТакого")
        with pytest.raises(ErpRequestError) as bad_filter:
            client.get_json(ORDERS, {"$filter": "Статус eq"})
        with pytest.raises(ErpNotFound) as missing:
            client.get_json(f"{ORDERS}(guid'00000000-0000-0000-0000-0000000000aa')")
    assert unknown_set.value.code == 6 and bad_filter.value.code == 14
    assert missing.value.status == 404 and missing.value.code == 9


def test_posting_an_order_without_goods_is_a_business_refusal_500_minus_1():
    with erp_sandbox() as (app, url):
        client = erp_client(url)
        partner = app.state.rows("Catalog_Партнеры")[0]["Ref_Key"]
        created = client.request(
            "POST", ORDERS, {"$format": "json"}, {"Партнер_Key": partner, "Статус": "КОбеспечению"}
        )
        assert created.status_code == 201 and created.headers["Location"].endswith("')")
        ref = created.json()["Ref_Key"]
        calls = client.calls
        with pytest.raises(ErpBusinessRefusal) as refused:
            client.request(
                "POST", f"{ORDERS}(guid'{ref}')/Post", {"PostingModeOperational": "false"}
            )
    assert refused.value.status == 500 and refused.value.code == -1
    assert client.calls == calls + 1  # a refusal is not retried


def test_every_write_bumps_dataversion_even_a_no_op_and_unknown_fields_are_ignored():
    with erp_sandbox() as (app, url):
        client = erp_client(url)
        order = app.state.rows(ORDERS)[0]
        path = f"{ORDERS}(guid'{order['Ref_Key']}')"
        same = client.request("PATCH", path, {"$format": "json"}, {"Комментарий": ""}).json()
        odd = client.request("PATCH", path, {"$format": "json"}, {"НетТакогоПоля": 1}).json()
    assert order["DataVersion"] < same["DataVersion"] < odd["DataVersion"]
    assert "НетТакогоПоля" not in odd


def test_a_tabular_section_must_be_numbered_from_one():
    with erp_sandbox() as (app, url):
        client = erp_client(url)
        order = app.state.rows(ORDERS)[0]
        line = {k: v for k, v in order["Товары"][0].items() if k != "LineNumber"}
        with pytest.raises(ErpRequestError):
            client.request(
                "PATCH",
                f"{ORDERS}(guid'{order['Ref_Key']}')",
                None,
                {"Товары": [{**line, "LineNumber": 2}]},
            )
        assert len(app.state.get(ORDERS, (order["Ref_Key"],))["Товары"]) == len(order["Товары"])


def test_cyrillic_login_is_utf8_and_a_wrong_password_is_access_denied():
    with erp_sandbox() as (_, url):
        assert erp_client(url).get_json("")["value"]
        wrong = ODataClient(url, USER, PASSWORD + "x", per_second=1000, sleep=lambda s: None)
        with pytest.raises(ErpAccessDenied) as denied:
            wrong.get_json(ORDERS)
    assert PASSWORD not in str(denied.value)


def test_an_html_page_with_status_200_is_an_error_not_data():
    with erp_sandbox(html_auth_errors=True) as (_, url):
        wrong = ODataClient(url, USER, "nope", per_second=1000, attempts=2, sleep=lambda s: None)
        with pytest.raises(ErpUnavailable, match="HTML"):
            wrong.get_json(ORDERS)


def test_a_plus_in_a_filter_is_not_a_space_as_on_the_real_platform():
    with erp_sandbox() as (app, url):
        number = app.state.rows(ORDERS)[0]["Number"]
        client = erp_client(url)
        encoded = client.get_json(ORDERS, {"$filter": eq("Number", number)})
        plus = requests.get(
            f"{url}{ORDERS}?$format=json&$filter=Number+eq+'{number}'",
            auth=(USER.encode(), PASSWORD.encode()),
            timeout=5,
        )
    assert len(encoded["value"]) == 1
    assert plus.status_code == 400 and plus.json()["odata.error"]["code"] == "14"


def test_the_default_format_is_atom():
    with erp_sandbox() as (_, url):
        response = erp_client(url).request("GET", ORDERS, {"$top": 1}, accept="*/*")
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    assert b"<m:properties " in response.content


def test_posting_a_shipped_order_again_leaves_it_ready_to_close():
    # 1C derives an order's state from its shipments too: a late repost does not undo one
    with erp_sandbox() as (app, url):
        client = erp_client(url)
        order = app.state.rows(ORDERS)[0]
        ref = order["Ref_Key"]
        app.trade.manager_edit(ref, {"Статус": "КОбеспечению"})
        app.trade.post(ORDERS, (ref,))
        app.trade.ship(ref)
        client.request("POST", f"{ORDERS}(guid'{ref}')/Post", {"PostingModeOperational": "false"})
        state = app.state.get(STATES, (ref, f"StandardODATA.{ORDERS}"))
    assert state["Состояние"] == "ГотовКЗакрытию" and state["ПроцентОтгрузки"] == 100.0
