"""An order's facts stored without the fields a side shares with the base read back exactly,
and the order flow decides every event the same with them as with the facts stored whole."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.flows import order_facts
from syncd.store.schema import outbox
from tests.support.flows import FlowBench, crm_order, erp_order

PARTNER = "6e37f0f0-5d91-4687-a3c4-c79ee22a9157"


def stored(facts: dict) -> dict:
    """Through the store and back (bindings keep facts as JSON)."""
    return json.loads(json.dumps(facts, ensure_ascii=False, sort_keys=True, default=str))


values = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from([0.0, 1.0, 2.5]),
    st.sampled_from(["", "a", "Тверская, 1", "1"]), st.lists(st.integers(0, 2), max_size=2),
)  # fmt: skip
names = st.sampled_from(["number", "createdAt", "delivery.code", "managerComment", "x"])
fields = st.dictionaries(names, values, max_size=5)
sides = st.one_of(
    st.none(),
    st.fixed_dictionaries({"stage": st.sampled_from(["new", "complete"]), "fields": fields}),
    st.fixed_dictionaries({"stage": st.just("new")}),
)


@settings(max_examples=300, deadline=None)
@given(base=st.one_of(st.none(), st.fixed_dictionaries({"fields": fields})), erp=sides, crm=sides)
def test_packed_facts_read_back_exactly(base, erp, crm):
    facts = {"created": True, "base": base, "erp": erp, "crm": crm}
    facts = {k: v for k, v in facts.items() if v is not None}
    assert order_facts.unpack(stored(order_facts.pack(facts))) == stored(facts)
    # the types too: 1 is not 1.0, True is not 1
    for name in ("erp", "crm"):
        if name in facts and "fields" in facts[name]:
            back = order_facts.unpack(stored(order_facts.pack(facts)))[name]["fields"]
            kept = stored(facts)[name]["fields"]
            assert {k: type(v) for k, v in back.items()} == {k: type(v) for k, v in kept.items()}


def test_facts_stored_whole_before_are_read_as_they_are():
    whole = {"base": {"fields": {"a": 1}}, "erp": {"fields": {"a": 1}}, "crm": {"fields": {}}}
    assert order_facts.unpack(whole) is whole


def test_a_side_in_sync_keeps_no_field_of_its_own():
    f = {"number": "ЗК-1", "managerComment": "позвонить"}
    facts = {"base": {"fields": f}, "erp": {"fields": dict(f)}, "crm": {"fields": {**f, "x": 1}}}
    packed = order_facts.pack(facts)
    assert packed["erp"] == {"fields_delta": {}}
    assert packed["crm"] == {"fields_delta": {"x": 1}}
    assert facts["erp"]["fields"] == f  # the facts planned with are left alone


def planned(tmp_path, monkeypatch, *, packing: bool) -> tuple[list, dict]:
    """Every command the flows queue for one order's life, and its facts at the end."""
    if not packing:
        monkeypatch.setattr(order_facts, "pack", lambda facts: facts)
    bench = FlowBench(tmp_path, live_entries=2)
    bench.partner(PARTNER, "Петрова Анна", "+79160000001")
    ref = "00000001-0000-4000-8000-000000000000"
    created = {"createdAt": "2026-11-01 10:00:00", "delivery": {"code": "self-delivery"}}

    def from_crm(history_id: int, status: str, comment: str = "") -> None:
        bench.add(crm_order(ref, 501, history_id, status, managerComment=comment, **created))

    def from_erp(n: int, status: str, total: float, comment: str = "") -> None:
        agreed = status != "НеСогласован"
        bench.add(erp_order(ref, n, status, total, "2026-11-01", PARTNER, agreed=agreed,
                            comment=comment))  # fmt: skip

    steps = [
        lambda: from_erp(1, "НеСогласован", 1500),  # created in the CRM
        lambda: from_crm(10, "new", "позвонить после 18"),  # the CRM's comment goes to 1C
        lambda: from_crm(11, "client-confirmed", "позвонить после 18"),  # agreed in the CRM
        lambda: from_erp(3, "КОбеспечению", 1500, "позвонить после 18"),
        lambda: (  # both edit the comment in one cycle: the CRM owns it
            from_crm(12, "client-confirmed", "позвонить до 12"),
            from_erp(4, "КОбеспечению", 1700, "из 1С"),
        ),
        lambda: from_erp(2, "НеСогласован", 1500),  # a late, older 1C state: nothing moves
        lambda: from_erp(5, "Закрыт", 1700, "позвонить до 12"),  # completed
        lambda: from_crm(13, "cancel-other", "позвонить до 12"),  # then cancelled in the CRM
    ]
    for step in steps:
        step()
        bench.plan()
    bench.replay()
    with bench.store.read() as conn:
        rows = conn.execute(
            outbox.select()
            .order_by(outbox.c.id)
            .with_only_columns(
                outbox.c.target,
                outbox.c.entity,
                outbox.c.object_id,
                outbox.c.action,
                outbox.c.payload,
            )
        ).all()
    facts = order_facts.unpack(bench.facts("erp", "order", ref))
    bench.close()
    return [tuple(r) for r in rows], facts


def test_the_order_flow_decides_the_same_with_facts_packed(tmp_path, monkeypatch):
    (tmp_path / "whole").mkdir()
    (tmp_path / "packed").mkdir()
    with monkeypatch.context() as m:
        whole, facts_whole = planned(tmp_path / "whole", m, packing=False)
    packed, facts_packed = planned(tmp_path / "packed", monkeypatch, packing=True)
    assert len(whole) >= 6  # created, agreed both ways, comment, statuses, figures
    assert packed == whole
    # the same facts, but for 1C's goods lines: read only to create the CRM order,
    # they are not stored once it is created
    assert "lines" not in facts_packed["erp"] and facts_whole["erp"].pop("lines")
    assert facts_packed == facts_whole


def test_the_goods_lines_are_stored_until_the_crm_order_is_created():
    lines = [{"LineNumber": 1, "Номенклатура_Key": "c8e9591c", "Отменено": False}]
    waiting = {"erp": {"version": "AAE=", "lines": lines, "all_cancelled": False}}
    assert order_facts.pack(waiting)["erp"]["lines"] == lines
    created = {**waiting, "created": True}
    assert order_facts.pack(created)["erp"] == {"version": "AAE=", "all_cancelled": False}
    assert created["erp"]["lines"] == lines  # the facts planned with are left alone


@pytest.mark.parametrize("side", ["erp", "crm"])
def test_a_side_that_differs_from_the_base_keeps_just_that(side):
    base = {"number": "ЗК-1", "managerComment": ""}
    facts = {"base": {"fields": base}, side: {"fields": {**base, "managerComment": "новый"}}}
    packed = order_facts.pack(facts)
    assert packed[side]["fields_delta"] == {"managerComment": "новый"}
    assert order_facts.unpack(packed) == facts
