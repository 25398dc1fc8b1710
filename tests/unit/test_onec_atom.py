"""Atom packages from 1C: documents with tabular sections, record sets, deleted entries."""

from __future__ import annotations

import pytest
from defusedxml import DTDForbidden, EntitiesForbidden

from syncd.connectors.onec import atom
from syncd.connectors.onec.atom import parse_feed
from syncd.connectors.onec.metadata import Metadata
from syncd_sandbox.erp_atom import atom_feed
from syncd_sandbox.erp_business import Trade
from syncd_sandbox.erp_schema import metadata_xml
from syncd_sandbox.erp_state import ErpState
from tests.support.paths import FIXTURES

FIXTURES = FIXTURES / "onec"

BASE = "http://erp.test/ut/odata/standard.odata/"
# Laid out as a recorded УТ 11 package (reference §0 items 21, 24): no m:type on any
# scalar, typed collections and rows, rows without Ref_Key, the recorder repeated in
# register rows, navigation links, a feed with no id or title of its own.
FEED = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:at="http://purl.org/atompub/tombstones/1.0"
      xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices"
      xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"
      xml:base="http://erp/odata/standard.odata/">
 <entry>
  <id>http://erp/odata/standard.odata/Document_ЗаказКлиента(guid'8d1d7287-0000-0000-0000-000000000001')</id>
  <category term="StandardODATA.Document_ЗаказКлиента" scheme="http://schemas.microsoft.com/ado/2007/08/dataservices/scheme"/>
  <title type="text"/><updated>2026-11-23T10:00:00</updated><author/><summary/>
  <link rel="http://schemas.microsoft.com/ado/2007/08/dataservices/related/Партнер" href="Document_ЗаказКлиента(guid'8d1d7287-0000-0000-0000-000000000001')/Партнер" type="application/atom+xml;type=entry;charset=utf-8" title="Партнер"/>
  <link rel="edit" href="Document_ЗаказКлиента(guid'8d1d7287-0000-0000-0000-000000000001')" title="edit-link"/>
  <content type="application/xml"><m:properties>
   <d:Ref_Key>8d1d7287-0000-0000-0000-000000000001</d:Ref_Key>
   <d:DataVersion>AAAAAAAAAAI=</d:DataVersion>
   <d:Posted>false</d:Posted>
   <d:Комментарий/>
   <d:СуммаДокумента>1980</d:СуммаДокумента>
   <d:Основание m:null="true"/>
   <d:Товары m:type="Collection(StandardODATA.Document_ЗаказКлиента_Товары_RowType)">
    <d:element m:type="StandardODATA.Document_ЗаказКлиента_Товары_RowType"><d:LineNumber>1</d:LineNumber>
     <d:Количество>2</d:Количество>
     <d:ВариантОбеспечения>КОбеспечению</d:ВариантОбеспечения></d:element>
    <d:element m:type="StandardODATA.Document_ЗаказКлиента_Товары_RowType"><d:LineNumber>2</d:LineNumber>
     <d:Количество>1.5</d:Количество>
     <d:ВариантОбеспечения>Отгрузить</d:ВариантОбеспечения></d:element>
   </d:Товары>
  </m:properties></content>
 </entry>
 <entry>
  <id>http://erp/odata/standard.odata/AccumulationRegister_ЗаказыКлиентов(Recorder='8d1d7287-0000-0000-0000-000000000001', Recorder_Type='StandardODATA.Document_ЗаказКлиента')</id>
  <category term="StandardODATA.AccumulationRegister_ЗаказыКлиентов"/>
  <content type="application/xml"><m:properties>
   <d:Recorder>8d1d7287-0000-0000-0000-000000000001</d:Recorder>
   <d:Recorder_Type>StandardODATA.Document_ЗаказКлиента</d:Recorder_Type>
   <d:RecordSet m:type="Collection(StandardODATA.AccumulationRegister_ЗаказыКлиентов_RowType)">
    <d:element m:type="StandardODATA.AccumulationRegister_ЗаказыКлиентов_RowType"><d:Recorder>8d1d7287-0000-0000-0000-000000000001</d:Recorder><d:LineNumber>1</d:LineNumber><d:Заказано>2</d:Заказано></d:element>
   </d:RecordSet>
  </m:properties></content>
 </entry>
 <at:deleted-entry ref="http://erp/odata/standard.odata/Catalog_Партнеры(guid'8d1d7287-0000-0000-0000-0000000000ff')" when="2026-11-23T10:00:00"/>
</feed>"""


def test_a_package_is_read_as_text_and_never_typed_by_the_payload():
    order, movements, gone = parse_feed(FEED.encode("utf-8"))
    assert order.set_name == "Document_ЗаказКлиента" and not order.deleted
    assert order.key == {"Ref_Key": "8d1d7287-0000-0000-0000-000000000001"}
    props = order.properties
    # no m:type on scalars: the parser keeps text; $metadata types it (test_onec_edm)
    assert props["Posted"] == "false" and props["Комментарий"] == "" and props["Основание"] is None
    assert props["СуммаДокумента"] == "1980"
    assert [row["LineNumber"] for row in props["Товары"]] == ["1", "2"]
    assert props["Товары"][1]["Количество"] == "1.5"
    assert movements.key == {
        "Recorder": "8d1d7287-0000-0000-0000-000000000001",
        "Recorder_Type": "StandardODATA.Document_ЗаказКлиента",
    }
    assert movements.properties["RecordSet"][0]["Заказано"] == "2"
    assert gone.deleted and gone.set_name == "Catalog_Партнеры"
    assert gone.key == {"Ref_Key": "8d1d7287-0000-0000-0000-0000000000ff"}


def test_an_empty_collection_is_an_empty_list_and_links_are_not_data():
    (order, _, _) = parse_feed(
        FEED.replace(
            FEED[FEED.index("<d:Товары ") : FEED.index("</d:Товары>") + len("</d:Товары>")],
            '<d:Товары m:type="Collection(StandardODATA.Document_ЗаказКлиента_Товары_RowType)"/>',
        )
    )
    assert order.properties["Товары"] == []
    assert "Партнер" not in order.properties and "link" not in order.properties


def test_a_feed_with_a_dtd_or_entities_is_refused_not_expanded():
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;">]><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>&b;</title></feed>"
    )
    with pytest.raises((DTDForbidden, EntitiesForbidden)):
        parse_feed(bomb)
    external = (
        '<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>&x;</title></feed>'
    )
    with pytest.raises((DTDForbidden, EntitiesForbidden)):
        parse_feed(external)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le", "utf-32"])
def test_a_dtd_is_refused_in_bytes_whatever_their_encoding(encoding, monkeypatch):
    def fast_parser(xml):  # noqa: ANN001, ANN202
        raise AssertionError("a DTD reached the C parser")

    monkeypatch.setattr(atom.FastTree, "fromstring", fast_parser)
    bomb = (
        f'<?xml version="1.0" encoding="{encoding}"?><!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;">]><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>&b;</title></feed>"
    )
    # refused by defusedxml, or not even readable by it (UTF-32, UTF-16 without a BOM)
    with pytest.raises((DTDForbidden, EntitiesForbidden, atom.FastTree.ParseError, ValueError)):
        parse_feed(bomb.encode(encoding))


def test_the_fast_parser_and_defusedxml_read_a_real_package_alike(monkeypatch):
    xml = (FIXTURES / "select_changes_orders.xml").read_bytes()
    fast = parse_feed(xml)
    monkeypatch.setattr(atom, "_ascii_compatible", lambda data: False)  # defusedxml's path
    slow = parse_feed(xml)
    assert fast == slow and len(fast) == 8


def test_what_the_sandbox_writes_reads_back_as_the_same_values():
    state = ErpState()
    trade = Trade(state)
    trade.seed(customers=2, items=3, orders=1)
    order = state.rows("Document_ЗаказКлиента")[0]
    (change,) = parse_feed(atom_feed(BASE, [("Document_ЗаказКлиента", order)]))
    typed = (
        Metadata.parse(metadata_xml()).entity("Document_ЗаказКлиента").normalize(change.properties)
    )
    assert typed["Ref_Key"] == order["Ref_Key"] and typed["Posted"] is order["Posted"]
    assert typed["Статус"] == order["Статус"]
    assert len(typed["Товары"]) == len(order["Товары"])
    assert typed["Товары"][0]["Цена"] == order["Товары"][0]["Цена"]
    assert typed["Товары"][0]["Отменено"] is False
    assert "Ref_Key" not in change.properties["Товары"][0]  # as in a real package
