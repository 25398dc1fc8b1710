"""Reservation, assembly and delivery from 1C, and 1C's payment state, in the order's rules."""

from __future__ import annotations

import shutil
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from syncd.flows import order_facts
from syncd.flows.order_mapper import OrderMapper
from syncd.flows.order_payments import PAID, paid_value, with_paid_field
from syncd.flows.order_rules import reconcile
from syncd.flows.order_state import Base, CrmSide, ErpSide, OrderState, erp_paid_percent
from syncd.mappings.load import MappingError, load_mappings
from syncd.mappings.model import PaymentsToErp
from syncd.mappings.transforms import Zones
from syncd.model import Event
from tests.support.erp import DELIVERY_STATUSES
from tests.support.paths import ROOT

DELIVERY = "InformationRegister_СтатусыСборкиИДоставки"
REF = "8d1d7287-6240-11ef-9296-00155d0a1c01"
ZONES = Zones(ZoneInfo("Europe/Moscow"), ZoneInfo("Europe/Moscow"))
MAPPINGS = load_mappings(ROOT / "mappings")


def mapper(mappings=MAPPINGS) -> OrderMapper:  # noqa: ANN001
    return OrderMapper(mappings, ZONES)


def delivery_event(status: str, ref: str = REF, kind: str = "Document_ЗаказКлиента") -> Event:
    key = {"Распоряжение": ref, "Распоряжение_Type": f"StandardODATA.{kind}"}
    data = {**key, "Статус": status, "ПричинаОтмены": ""}
    return Event("erp", "delivery_state", "k", "v", {"set": DELIVERY, "key": key, "data": data})


def stage_of(**erp) -> str | None:  # noqa: ANN003
    side = ErpSide(status="КОбеспечению", agreed=True, **erp)
    return mapper().erp_stage(side)


def reconciled(base: str, erp_stage: str, crm_stage: str, crm_status: str):  # noqa: ANN201
    state = OrderState(
        erp=ErpSide(stage=erp_stage),
        crm=CrmSide(status=crm_status, stage=crm_stage),
        base=Base(stage=base),
        created=True,
    )
    return reconcile(state, MAPPINGS.orders, MAPPINGS.statuses, lambda fm, v: v)


# -- the shipped map -----------------------------------------------------------------


def test_the_shipped_map_gives_every_delivery_status_a_stage():
    assert sorted(MAPPINGS.statuses.erp_delivery) == sorted(DELIVERY_STATUSES)


def test_delivered_in_1c_is_delivered_in_the_crm():
    stage = stage_of(delivery="Доставлен")
    assert stage == "delivered"
    assert MAPPINGS.statuses.crm_write[stage] == "delivered"
    assert MAPPINGS.statuses.crm["delivered"] == "delivered"


@pytest.mark.parametrize(
    ("delivery", "crm_status"),
    [
        ("КСборке", "send-to-assembling"),
        ("Собирается", "send-to-assembling"),
        ("Собран", "assembling-complete"),
        ("ГотовКДоставке", "assembling-complete"),
        ("Доставляется", "delivering"),
        ("Доставлен", "delivered"),
        ("Отменен", "cancel-other"),
        ("Возвращен", "cancel-other"),
    ],
)
def test_each_delivery_status_reaches_its_crm_status(delivery, crm_status):
    stage = stage_of(delivery=delivery)
    decision = reconciled("agreed", stage, "agreed", "client-confirmed")
    assert decision.crm == {"status": crm_status}
    assert decision.base.stage == stage


def test_processing_alone_moves_nothing():
    assert stage_of(delivery="Обрабатывается") == "agreed"  # the status's stage is further
    assert mapper().erp_stage(ErpSide(status="НеСогласован", delivery="Обрабатывается")) == "new"


def test_the_furthest_of_state_status_and_delivery_counts():
    # the state says shipped (a shipment is posted), the courier says delivered
    assert stage_of(state="ГотовКЗакрытию", delivery="Доставлен") == "delivered"
    # the order is closed: complete is further than delivered
    assert stage_of(state="Закрыт", delivery="Доставлен") == "complete"


def test_reservation_is_not_agreement_and_needs_a_crm_status_to_show():
    stage = stage_of(state="ГотовКОтгрузке")
    assert stage == "reserved" and stage_of(state="ГотовКОбеспечению") == "agreed"
    # a stock account has no status for it: the CRM keeps "Согласован", nothing is written
    decision = reconciled("agreed", "reserved", "agreed", "client-confirmed")
    assert decision.base.stage == "reserved" and decision.crm == {}
    # and nothing is owed back to 1C for it
    assert decision.erp == {} and not decision.erp_post


def test_reservation_shows_where_the_account_has_a_status_for_it(tmp_path):
    folder = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", folder)
    path = folder / "statuses.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "  client-confirmed: agreed ", "  reserved: reserved\n  client-confirmed: agreed "
    )
    text = text.replace("crm_write:\n", "crm_write:\n  reserved: reserved\n")
    path.write_text(text, encoding="utf-8")
    m = load_mappings(folder)
    state = OrderState(
        erp=ErpSide(stage="reserved"),
        crm=CrmSide(status="client-confirmed", stage="agreed"),
        base=Base(stage="agreed"),
        created=True,
    )
    decision = reconcile(state, m.orders, m.statuses, lambda fm, v: v)
    assert decision.crm == {"status": "reserved"}


def test_a_late_delivery_status_does_not_move_the_order_back():
    # delivered in both; then an older "Собирается" is folded in (out of order)
    decision = reconciled("delivered", stage_of(delivery="Собирается"), "delivered", "delivered")
    assert decision.crm == {} and decision.erp == {} and decision.base.stage == "delivered"


def test_a_crm_status_syncd_sets_must_read_back_as_its_stage(tmp_path):
    folder = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", folder)
    path = folder / "statuses.yaml"
    text = path.read_text(encoding="utf-8").replace("crm_write:\n", "crm_write:\n  reserved: new\n")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_mappings(folder)
    (problem,) = caught.value.problems
    assert "statuses.yaml" in str(problem)
    assert "stage 'reserved' sets 'new', which crm maps to the stage 'new'" in str(problem)


def test_a_delivery_stage_that_is_not_a_stage_is_refused_at_its_line(tmp_path):
    folder = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", folder)
    path = folder / "statuses.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "  Доставлен: delivered", "  Доставлен: delivred"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_mappings(folder)
    assert "erp_delivery: stage 'delivred' is not in stages or terminal" in str(caught.value)


# -- which order a delivery record is about -------------------------------------------


def test_a_delivery_record_names_its_order():
    ref, data = mapper().erp_ref(delivery_event("Собран", ref=REF.upper()))
    assert ref == REF and data["Статус"] == "Собран"
    expected = f"Распоряжение={REF};Распоряжение_Type=StandardODATA.Document_ЗаказКлиента"
    assert mapper().delivery_key(REF) == expected


def test_a_delivery_record_of_a_shipment_is_not_an_orders():
    assert mapper().erp_ref(delivery_event("Собран", kind="Document_РеализацияТоваровУслуг")) == (
        None,
        None,
    )


def test_without_a_delivery_set_the_records_are_not_read():
    m = MAPPINGS.__class__(**{**MAPPINGS.__dict__})
    m.orders = MAPPINGS.orders.model_copy(update={"delivery_set": None})
    assert OrderMapper(m, ZONES).erp_ref(delivery_event("Доставлен")) == (None, None)


# -- 1C's payment state ---------------------------------------------------------------


def test_the_state_record_payment_state_is_kept_and_read_back_from_the_stored_facts():
    erp = ErpSide(status="КОбеспечению", version="AAAAAAAAAAE=")
    mapper().take_state(erp, {"Состояние": "ГотовКОбеспечению", "ПроцентОплаты": 37.5})
    mapper().take_state(erp, {"Состояние": "ГотовКОбеспечению", "ПроцентОплаты": 100.0})
    erp.take(ErpSide(status="КОтгрузке", version="AAAAAAAAAAI="))  # the order changes after
    assert (erp.state, erp.paid_percent, erp.paid_amount) == ("ГотовКОбеспечению", 100.0, None)
    stored = order_facts.pack(OrderState(erp=erp, base=Base(stage="agreed")).stored())
    assert erp_paid_percent(stored) == Decimal("100")


def test_the_payment_state_goes_when_the_state_record_goes():
    erp = ErpSide(paid_percent=100.0, paid_amount=25000.0, state="ГотовКОбеспечению")
    mapper().take_state(erp, None)  # unposted: 1C deletes the state record
    assert (erp.state, erp.paid_percent, erp.paid_amount) == (None, None, None)
    assert erp_paid_percent({"erp": erp.stored()}) is None


@pytest.mark.parametrize(
    ("facts", "percent"),
    [
        (None, None),
        ({}, None),
        ({"erp": {"state": "ГотовКОбеспечению"}}, None),
        ({"erp": {"paid_percent": 0.0}}, Decimal("0")),
        ({"erp": {"paid_percent": 37.5}}, Decimal("37.5")),
        ({"erp": {"paid_percent": "n/a"}}, None),
        ({"erp": {"paid_percent": True}}, None),
    ],
)
def test_erp_paid_percent_reads_the_stored_facts(facts, percent):
    assert erp_paid_percent(facts) == percent


# -- the CRM's payments to 1C -----------------------------------------------------------


def order_body(payments, total=2500, status="new") -> dict:  # noqa: ANN001
    return {"id": 7, "status": status, "totalSumm": total, "payments": payments}


@pytest.mark.parametrize(
    ("payments", "flag", "amount"),
    [
        ({}, False, 0.0),
        ([], False, 0.0),
        ({"41": {"id": 41, "status": "paid", "amount": 2500}}, True, 2500.0),
        ([{"status": "paid", "amount": "1000.50"}, {"status": "not-paid", "amount": 1499.5}],
         False, 1000.5),
        ([{"status": "paid", "amount": 1000}, {"status": "paid", "amount": "1500"}], True, 2500.0),
    ],
)  # fmt: skip
def test_the_crm_payments_become_one_value(payments, flag, amount):
    assert paid_value(order_body(payments), PaymentsToErp(field="X")) is flag
    assert paid_value(order_body(payments), PaymentsToErp(field="X", value="amount")) == amount


def test_payments_go_to_1c_only_when_the_mapping_names_a_field():
    assert with_paid_field(MAPPINGS.orders) is MAPPINGS.orders
    orders = MAPPINGS.orders.model_copy(
        update={"payments_to_erp": PaymentsToErp(field="ОплаченоОнлайн")}
    )
    (fm,) = [f for f in with_paid_field(orders).fields if f.crm == PAID]
    assert (fm.erp, fm.direction) == ("ОплаченоОнлайн", "crm_to_erp")


def test_a_paid_crm_order_writes_the_flag_to_1c_once():
    orders = MAPPINGS.orders.model_copy(
        update={"payments_to_erp": PaymentsToErp(field="ОплаченоОнлайн")}
    )
    m = MAPPINGS.__class__(**{**MAPPINGS.__dict__})
    m.orders = orders
    om = OrderMapper(m, ZONES)
    paid = {"41": {"status": "paid", "amount": 2500}}
    crm = om.crm_side(order_body(paid, status="client-confirmed"))
    state = OrderState(
        erp=ErpSide(stage="agreed", fields={}),
        crm=crm,
        base=Base(stage="agreed", fields={**crm.fields, PAID: False}),  # in step but paid
        created=True,
    )
    decision = reconcile(state, om.orders, m.statuses, lambda fm, v: v)
    assert decision.erp == {"ОплаченоОнлайн": True} and PAID not in decision.crm
    state.base = decision.base
    again = reconcile(state, om.orders, m.statuses, lambda fm, v: v)
    assert again.erp == {} and again.crm == {}
