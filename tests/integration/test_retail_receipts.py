"""1C:Розница receipts over a store base's OData: card, phone and e-mail reach the history."""

from __future__ import annotations

from tests.support.erp import erp_sandbox, retail_source


def test_punched_receipts_come_with_the_cards_code_and_the_buyers_contacts(tmp_path, monkeypatch):
    with erp_sandbox() as (app, url):
        item = app.state.rows("Catalog_Номенклатура")[0]["Ref_Key"]
        sold = app.trade.pos_receipt([(item, 2, 150.0)], phone="8 912 345 67 89", card="7700 1234")
        app.trade.pos_receipt([(item, 1, 99.0)], email="anna@example.ru")
        app.trade.pos_receipt([(item, 1, 10.0)], phone="+79990000000", status="Отложенный")
        source = retail_source(tmp_path, url, monkeypatch)
        (batch,) = list(source.poll(None))
        (again,) = list(source.poll(batch.cursor))
    assert [e.payload["buyer"]["card"] for e in batch.events] == ["7700 1234", ""]
    first = batch.events[0]
    assert first.external_id == f"msk:{sold['Ref_Key']}" and first.payload["total"] == 300.0
    assert first.payload["buyer"]["phone"] == "8 912 345 67 89"
    assert batch.events[1].payload["buyer"]["email"] == "anna@example.ru"
    assert again.events == []  # unchanged receipts inside the overlap are not read twice
