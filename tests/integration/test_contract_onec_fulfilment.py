"""1C contract for the order's fulfilment: its state with the payment state, and its
assembly and delivery status, the same assertions over real-shaped fixtures and the sandbox.

``tests/fixtures/onec/select_changes_fulfilment.xml`` is a ``SelectChanges``
package as a УТ 11.5 publication sends it for these registers (reference §4.3:
``СостоянияЗаказовКлиентов`` keyed by ``Заказ`` with ``СуммаОплаты`` and
``ПроцентОплаты``; ``СтатусыСборкиИДоставки`` keyed by ``Распоряжение``, an
order or a shipment, with ``Статус``), laid out like the recorded packages
(§0 items 21–24).  Every test runs over it and over the sandbox 1C's answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests
from defusedxml import ElementTree

from syncd.connectors.onec.atom import parse_feed
from syncd.connectors.onec.changes import EntryReader
from syncd.connectors.onec.metadata import Metadata
from syncd_sandbox.erp_schema import EXCHANGE_PLAN
from tests.support.erp import DELIVERY_STATUSES, ORDERS, PASSWORD, STATES, USER, erp_sandbox
from tests.support.recorded_erp import fixture

DELIVERY = "InformationRegister_СтатусыСборкиИДоставки"
ATOM = "{http://www.w3.org/2005/Atom}"
M = "{http://schemas.microsoft.com/ado/2007/08/dataservices/metadata}"


@dataclass
class Answers:
    metadata: bytes
    package: bytes


def recorded() -> Answers:
    return Answers(fixture("metadata.xml"), fixture("select_changes_fulfilment.xml"))


def sandbox() -> Answers:
    with erp_sandbox(seed=False) as (app, url):
        app.trade.seed(customers=2, items=3, orders=1, seed=3)
        ref = app.state.rows(ORDERS)[0]["Ref_Key"]
        app.trade.manager_edit(ref, {"Статус": "КОбеспечению"})
        app.trade.pay(ref, 100.0)
        app.trade.delivery_status(ref, "Собран")
        app.trade.delivery_status(ref, "Доставлен")
        http = requests.Session()
        http.auth = (USER.encode(), PASSWORD.encode())
        point = f"'{url}{EXCHANGE_PLAN}(guid'{app.node}')'"
        package = http.post(
            url + "SelectChanges", params={"DataExchangePoint": point, "MessageNo": 1}
        ).content
        return Answers(http.get(url + "$metadata").content, package)


@pytest.fixture(scope="module", params=["recorded shape", "sandbox"])
def answers(request: pytest.FixtureRequest) -> Answers:
    return recorded() if request.param == "recorded shape" else sandbox()


def events(answers: Answers, sets: dict[str, str]) -> list:
    meta = Metadata.parse(answers.metadata)
    reader = EntryReader("erp", "erp_changes", sets, meta)
    entries = [
        (c.set_name, c.key, None if c.deleted else c.properties)
        for c in parse_feed(answers.package)
    ]
    found, rejected = reader.events(entries, "message:1", "SelectChanges message 1")
    assert rejected == []
    return found


def test_metadata_publishes_the_delivery_register_keyed_by_a_composite(answers):
    entity = Metadata.parse(answers.metadata).entity(DELIVERY)
    assert entity.key == ["Распоряжение", "Распоряжение_Type"]
    assert entity.composites == {"Распоряжение"}
    assert entity.type_of("Статус") == "Edm.String"  # the enum value's name: not published
    assert entity.type_of("ДатаДоставки") == "Edm.DateTime"


def test_metadata_state_register_carries_the_payment_state(answers):
    entity = Metadata.parse(answers.metadata).entity(STATES)
    for name in ("СуммаОплаты", "ПроцентОплаты", "СуммаОтгрузки", "ПроцентОтгрузки"):
        assert entity.type_of(name) == "Edm.Double"


def test_register_entries_are_keyed_in_their_id_and_carry_untyped_scalars(answers):
    root = ElementTree.fromstring(answers.package)
    seen = 0
    for entry in root.findall(f"{ATOM}entry"):
        term = entry.find(f"{ATOM}category").get("term")
        if term not in (f"StandardODATA.{DELIVERY}", f"StandardODATA.{STATES}"):
            continue
        key = "Распоряжение" if term.endswith(DELIVERY) else "Заказ"
        assert f"({key}='" in entry.find(f"{ATOM}id").text
        props = list(entry.find(f"{ATOM}content").find(f"{M}properties"))
        assert props and all(p.get(f"{M}type") is None for p in props)
        seen += 1
    assert seen >= 2


def test_delivery_records_read_as_events_with_a_status_of_the_enum(answers):
    found = events(answers, {DELIVERY: "delivery_state"})
    assert found
    orders = [e for e in found if e.payload["key"]["Распоряжение_Type"].endswith("." + ORDERS)]
    assert orders
    for event in found:
        data = event.payload["data"]
        assert event.entity == "delivery_state"
        assert data["Статус"] in DELIVERY_STATUSES
        assert event.external_id.startswith("Распоряжение=")
        assert isinstance(data["КоличествоСтрокВЗаказе"], int)
    assert any(e.payload["data"]["Статус"] == "Доставлен" for e in orders)


def test_state_records_read_as_events_with_the_payment_state_as_numbers(answers):
    found = events(answers, {STATES: "order_state"})
    assert found
    for event in found:
        data = event.payload["data"]
        assert isinstance(data["ПроцентОплаты"], float)
        assert isinstance(data["СуммаОплаты"], float)
        assert 0.0 <= data["ПроцентОплаты"] <= 100.0
    assert any(e.payload["data"]["ПроцентОплаты"] == 100.0 for e in found)
