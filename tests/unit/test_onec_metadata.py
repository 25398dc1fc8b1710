"""Reading a 1C publication's $metadata."""

from __future__ import annotations

import pytest
from defusedxml import DTDForbidden, EntitiesForbidden

from syncd.connectors.onec.metadata import Metadata
from tests.support.paths import FIXTURES

FIXTURE = FIXTURES / "onec_metadata.xml"


@pytest.fixture(scope="module")
def meta() -> Metadata:
    return Metadata.parse(FIXTURE.read_bytes())


def test_entities_keys_types_and_tabular_sections(meta):
    orders = meta.entity("Document_ЗаказКлиента")
    assert orders.key == ["Ref_Key"]
    assert orders.type_of("Статус") == "Edm.String"
    assert orders.tabular("Товары").type_of("Количество") == "Edm.Double"
    assert orders.tabular("Товары").type_of("LineNumber") == "Edm.Int64"
    assert "Партнер" in orders.navigation


def test_references_and_composites_are_recognised(meta):
    orders = meta.entity("Document_ЗаказКлиента")
    assert orders.references == {"Партнер": "Партнер_Key"}
    assert orders.composites == {"Основание"}


def test_names_with_underscores_and_digits_are_kept_whole(meta):
    register = meta.entity("InformationRegister_см_Очередь2Действий")
    assert register.key == ["Period", "Заказ_Key"]


def test_enums_and_functions(meta):
    assert meta.enums["СтатусыЗаказовКлиентов"] == [
        "НеСогласован",
        "КОбеспечению",
        "КОтгрузке",
        "Закрыт",
    ]
    assert "Post" in meta.functions


def test_unknown_names_say_what_is_close(meta):
    with pytest.raises(KeyError, match="did you mean Document_ЗаказКлиента"):
        meta.entity("Document_ЗаказКлиент")
    with pytest.raises(KeyError, match="did you mean Статус"):
        meta.entity("Document_ЗаказКлиента").type_of("Статусы")


def test_an_empty_publication_is_explained():
    empty = (
        b'<edmx:Edmx xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx">'
        b'<edmx:DataServices><Schema Namespace="StandardODATA"/></edmx:DataServices>'
        b"</edmx:Edmx>"
    )
    with pytest.raises(ValueError, match="publishes no objects"):
        Metadata.parse(empty)


def test_entity_expansion_and_dtds_are_refused():
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises((DTDForbidden, EntitiesForbidden)):
        Metadata.parse(bomb)


def test_an_entry_is_read_with_its_types_including_tabular_rows(meta):
    from datetime import datetime
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    msk = ZoneInfo("Europe/Moscow")
    entry = meta.entity("Document_ЗаказКлиента").read(
        {
            "odata.metadata": "…/$metadata#Document_ЗаказКлиента/@Element",
            "Ref_Key": "8d1d7287-0000-0000-0000-000000000001",
            "Date": "2026-11-23T10:00:00",
            "Партнер_Key": "00000000-0000-0000-0000-000000000000",
            "СуммаДокумента": 1990.5,
            "Товары": [
                {
                    "LineNumber": "1",
                    "Количество": 2,
                    "Номенклатура_Key": "8d1d7287-0000-0000-0000-000000000002",
                }
            ],
        },
        msk,
    )
    assert entry["Date"] == datetime(2026, 11, 23, 10, tzinfo=msk)
    assert entry["Партнер_Key"] is None and entry["СуммаДокумента"] == Decimal("1990.5")
    assert entry["Товары"][0]["LineNumber"] == 1
    assert str(entry["Ref_Key"]).endswith("0001")
    assert "odata.metadata" not in entry  # not declared: not data
