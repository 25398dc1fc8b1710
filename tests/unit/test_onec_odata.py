"""The 1C OData client (responses-mocked): auth, errors, retries, paging."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from syncd.connectors.onec.errors import ErpBusinessRefusal, ErpUnavailable
from syncd.connectors.onec.metadata import Metadata
from syncd.connectors.onec.odata import ODataClient
from tests.support.paths import FIXTURES

BASE = "https://erp.test/ut11/odata/standard.odata/"
META = Metadata.parse((FIXTURES / "onec_metadata.xml").read_bytes())


def erp(**kwargs) -> ODataClient:
    kwargs.setdefault("per_second", 1000)
    return ODataClient(BASE, "Обмен", "пароль", sleep=lambda s: None, **kwargs)


def options(call) -> dict:
    return parse_qs(urlsplit(call.request.url).query)


@responses.activate
def test_basic_auth_credentials_are_utf8():
    responses.get(BASE + "Document_ЗаказКлиента", json={"value": []})
    list(erp().entities("Document_ЗаказКлиента", META))
    sent = responses.calls[0].request.headers["Authorization"]
    assert base64.b64decode(sent.split()[1]).decode("utf-8") == "Обмен:пароль"


@responses.activate
def test_paging_orders_by_the_full_key_and_never_asks_for_inlinecount():
    rows = [{"Ref_Key": f"k{i}"} for i in range(5)]
    responses.get(BASE + "InformationRegister_см_Очередь2Действий", json={"value": rows[:2]})
    responses.get(BASE + "InformationRegister_см_Очередь2Действий", json={"value": rows[2:4]})
    responses.get(BASE + "InformationRegister_см_Очередь2Действий", json={"value": rows[4:]})
    got = list(erp(page_size=2).entities("InformationRegister_см_Очередь2Действий", META))
    assert got == rows
    asked = [options(c) for c in responses.calls]
    assert [a["$skip"] for a in asked] == [["0"], ["2"], ["4"]]
    assert all(a["$orderby"] == ["Period,Заказ_Key"] and a["$top"] == ["2"] for a in asked)
    assert all("$inlinecount" not in a for a in asked)


@responses.activate
def test_heavy_pages_shrink_the_page_size():
    heavy = {"value": [{"Ref_Key": "x", "Товары": "y" * 5000}] * 4}
    responses.get(BASE + "Document_ЗаказКлиента", json=heavy)
    responses.get(BASE + "Document_ЗаказКлиента", json={"value": [{"Ref_Key": "z"}]})
    list(erp(page_size=4, page_bytes=1000).entities("Document_ЗаказКлиента", META))
    assert [options(c)["$top"] for c in responses.calls] == [["4"], ["2"]]


@responses.activate
def test_an_html_page_with_200_is_an_error_and_is_retried():
    responses.get(BASE + "$metadata", body="<html>Вход</html>", content_type="text/html")
    responses.get(
        BASE + "$metadata",
        body=(FIXTURES / "onec_metadata.xml").read_bytes(),
        content_type="application/xml",
    )
    assert "Document_ЗаказКлиента" in erp().metadata().entity_sets
    assert len(responses.calls) == 2


@responses.activate
def test_a_business_refusal_is_not_retried():
    responses.post(
        BASE + "Document_ЗаказКлиента(guid'00000000-0000-0000-0000-000000000001')/Post",
        status=500,
        json={"odata.error": {"code": "-1", "message": {"value": "Не удалось провести"}}},
    )
    with pytest.raises(ErpBusinessRefusal, match="Не удалось провести"):
        erp().request(
            "POST", "Document_ЗаказКлиента(guid'00000000-0000-0000-0000-000000000001')/Post"
        )
    assert len(responses.calls) == 1


@responses.activate
def test_server_errors_are_retried_until_the_last_attempt():
    responses.get(BASE + "Catalog_Склады", status=502, body="bad gateway")
    with pytest.raises(ErpUnavailable):
        erp(attempts=3).get_json("Catalog_Склады")
    assert len(responses.calls) == 3


@responses.activate
def test_exchange_calls_name_the_node_by_its_canonical_url_and_select_is_not_retried():
    from urllib.parse import unquote

    from syncd.connectors.onec.errors import ErpUnavailable
    from syncd.connectors.onec.exchange_source import ExchangeNode

    node = ExchangeNode(erp(), "ExchangePlan_Обмен", "8d1d7287-0000-0000-0000-0000000000aa")
    responses.post(BASE + "SelectChanges", body="<feed/>", content_type="application/atom+xml")
    responses.post(BASE + "NotifyChangesReceived", body="")
    node.select(3)
    node.confirm(3)
    select, confirm = responses.calls
    point = f"'{BASE}ExchangePlan_Обмен(guid'8d1d7287-0000-0000-0000-0000000000aa')'"
    assert options(select)["DataExchangePoint"] == [point]
    assert options(select)["MessageNo"] == ["3"] and options(confirm)["MessageNo"] == ["3"]
    assert select.request.headers["Accept"] == "application/atom+xml"
    assert "%D0%9E" in select.request.url and " " not in unquote(select.request.url)

    responses.replace(responses.POST, BASE + "SelectChanges", status=503, body="busy")
    with pytest.raises(ErpUnavailable):
        node.select(4)
    assert len(responses.calls) == 3  # one try: a failed SelectChanges holds 1C's locks
