"""Atom packages from 1C: documents with tabular sections, record sets, deleted entries."""

from __future__ import annotations

import pytest
from defusedxml import DTDForbidden, EntitiesForbidden

from syncd.connectors.onec.atom import parse_feed
from syncd.sandbox.erp_atom import atom_feed
from syncd.sandbox.erp_business import Trade
from syncd.sandbox.erp_state import ErpState

BASE = "http://erp.test/ut/odata/standard.odata/"
FEED = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:at="http://purl.org/atompub/tombstones/1.0"
      xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices"
      xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">
 <entry>
  <id>http://erp/odata/standard.odata/Document_ЗаказКлиента(guid'8d1d7287-0000-0000-0000-000000000001')</id>
  <category term="StandardODATA.Document_ЗаказКлиента"/>
  <content type="application/xml"><m:properties>
   <d:Ref_Key>8d1d7287-0000-0000-0000-000000000001</d:Ref_Key>
   <d:DataVersion>AAAAAAAAAAI=</d:DataVersion>
   <d:Posted m:type="Edm.Boolean">true</d:Posted>
   <d:Комментарий/>
   <d:СуммаДокумента m:type="Edm.Double">1980</d:СуммаДокумента>
   <d:Автор m:null="true"/>
   <d:Товары m:type="Collection(StandardODATA.Document_ЗаказКлиента_Товары_RowType)">
    <d:element><d:LineNumber m:type="Edm.Int64">1</d:LineNumber>
     <d:Количество m:type="Edm.Double">2</d:Количество>
     <d:ВариантОбеспечения>КОбеспечению</d:ВариантОбеспечения></d:element>
    <d:element><d:LineNumber m:type="Edm.Int64">2</d:LineNumber>
     <d:Количество m:type="Edm.Double">1.5</d:Количество>
     <d:ВариантОбеспечения>Отгрузить</d:ВариантОбеспечения></d:element>
   </d:Товары>
  </m:properties></content>
 </entry>
 <entry>
  <id>http://erp/odata/standard.odata/AccumulationRegister_ЗаказыКлиентов(Recorder_Key=guid'8d1d7287-0000-0000-0000-000000000001')</id>
  <category term="StandardODATA.AccumulationRegister_ЗаказыКлиентов"/>
  <content type="application/xml"><m:properties>
   <d:Recorder_Key>8d1d7287-0000-0000-0000-000000000001</d:Recorder_Key>
   <d:RecordSet m:type="Collection(StandardODATA.AccumulationRegister_ЗаказыКлиентов_RowType)">
    <d:element><d:LineNumber m:type="Edm.Int64">1</d:LineNumber><d:Заказано m:type="Edm.Double">2</d:Заказано></d:element>
   </d:RecordSet>
  </m:properties></content>
 </entry>
 <at:deleted-entry ref="http://erp/odata/standard.odata/Catalog_Партнеры(guid'8d1d7287-0000-0000-0000-0000000000ff')" when="2026-11-23T10:00:00Z"/>
</feed>"""


def test_a_package_with_a_document_a_record_set_and_a_deleted_entry():
    order, movements, gone = parse_feed(FEED.encode("utf-8"))
    assert order.set_name == "Document_ЗаказКлиента" and not order.deleted
    assert order.key == {"Ref_Key": "8d1d7287-0000-0000-0000-000000000001"}
    props = order.properties
    assert props["Posted"] is True and props["Комментарий"] == "" and props["Автор"] is None
    assert props["СуммаДокумента"] == 1980.0
    assert [row["LineNumber"] for row in props["Товары"]] == ["1", "2"]  # Int64: text, as in JSON
    assert props["Товары"][1]["Количество"] == 1.5
    # the record set's recorder sits on the entry only: copied into every row
    assert movements.properties["RecordSet"][0]["Recorder_Key"] == order.key["Ref_Key"]
    assert movements.properties["RecordSet"][0]["Заказано"] == 2.0
    assert gone.deleted and gone.set_name == "Catalog_Партнеры"
    assert gone.key == {"Ref_Key": "8d1d7287-0000-0000-0000-0000000000ff"}


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


def test_what_the_sandbox_writes_reads_back_as_the_same_values():
    state = ErpState()
    trade = Trade(state)
    trade.seed(customers=2, items=3, orders=1)
    order = state.rows("Document_ЗаказКлиента")[0]
    (change,) = parse_feed(atom_feed(BASE, "t", [("Document_ЗаказКлиента", order)]))
    assert change.properties["Ref_Key"] == order["Ref_Key"]
    assert change.properties["Статус"] == order["Статус"]
    assert len(change.properties["Товары"]) == len(order["Товары"])
    assert change.properties["Товары"][0]["Цена"] == order["Товары"][0]["Цена"]
