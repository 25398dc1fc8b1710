"""The order rules, pure: stages only move forward, owners decide clashes, else conflicts."""

from __future__ import annotations

from syncd.flows.order_rules import reconcile
from syncd.flows.order_state import OrderState
from syncd.mappings.load import load_mappings
from syncd.mappings.model import FieldMap
from tests.support.paths import ROOT

MAPPINGS = load_mappings(ROOT / "mappings")


def decide(base_stage, erp_stage, crm_stage, base_fields=None, erp_fields=None, crm_fields=None):
    facts = {
        "base": {"stage": base_stage, "fields": base_fields or {}},
        "erp": {"stage": erp_stage, "fields": erp_fields or {}},
        "crm": {"stage": crm_stage, "fields": crm_fields or {}},
    }
    return reconcile(
        OrderState.from_stored(facts), MAPPINGS.orders, MAPPINGS.statuses, lambda fm, v: v
    )


def test_agreed_in_the_crm_sets_the_1c_status_and_posts():
    d = decide("new", "new", "agreed")
    assert d.erp == {"Статус": "КОбеспечению"} and d.erp_post and d.crm == {}
    assert d.base.stage == "agreed"


def test_shipped_in_1c_moves_the_crm_status_along_the_map():
    d = decide("agreed", "shipped", "agreed")
    assert d.crm == {"status": "send-to-delivery"} and d.erp == {}


def test_a_late_event_with_an_older_stage_moves_nothing_back():
    # the CRM still shows "new" in a late or replayed event; 1C and the base are at shipped
    late_crm = decide("shipped", "shipped", "new")
    assert late_crm.erp == {} and late_crm.base.stage == "shipped"
    assert late_crm.crm == {"status": "send-to-delivery"}  # the CRM is brought forward again
    late_erp = decide("shipped", "agreed", "shipped")
    assert late_erp.erp == {} and late_erp.crm == {} and late_erp.base.stage == "shipped"


def test_both_moved_forward_in_one_cycle_the_further_stage_wins():
    d = decide("agreed", "shipped", "assembling")
    assert d.base.stage == "shipped" and d.crm == {"status": "send-to-delivery"}
    assert d.erp == {} and d.conflicts == []


def test_cancelled_in_the_crm_while_1c_shipped_is_a_conflict():
    d = decide("agreed", "shipped", "cancelled")
    assert d.conflicts and "cancelled" in d.conflicts[0]
    assert d.crm == {} and d.erp == {} and d.base.stage == "agreed"


def test_cancelled_in_the_crm_cancels_every_line_in_1c():
    d = decide("agreed", "agreed", "cancelled")
    assert d.erp == {"Статус": "Закрыт"} and d.cancel_lines and d.erp_post


def test_an_ended_order_stays_ended():
    d = decide("cancelled", "complete", "cancelled")
    assert d.erp == {} and d.crm == {} and d.base.stage == "cancelled"


def test_a_field_changed_on_both_sides_follows_its_owner():
    # orders.yaml: Комментарий <-> managerComment, direction both, owner crm
    d = decide(
        "new",
        "new",
        "new",
        base_fields={"managerComment": "a"},
        erp_fields={"managerComment": "from 1C"},
        crm_fields={"managerComment": "from CRM"},
    )
    assert d.erp == {"Комментарий": "from CRM"} and d.crm == {} and d.conflicts == []


def test_a_field_with_no_owner_named_is_1c_s_when_both_sides_changed_it():
    """orders.yaml may leave ``owner`` out: 1C, the system of record, then wins a clash
    (its value goes to the CRM, nothing is written to 1C)."""
    orders = MAPPINGS.orders.model_copy(deep=True)
    comment = next(fm for fm in orders.fields if fm.crm == "managerComment")
    unnamed = FieldMap(erp=comment.erp, crm=comment.crm, direction="both")  # no owner
    orders.fields = [unnamed if fm is comment else fm for fm in orders.fields]
    facts = {
        "base": {"stage": "new", "fields": {"managerComment": "a"}},
        "erp": {"stage": "new", "fields": {"managerComment": "from 1C"}},
        "crm": {"stage": "new", "fields": {"managerComment": "from CRM"}},
    }
    d = reconcile(OrderState.from_stored(facts), orders, MAPPINGS.statuses, lambda fm, v: v)
    assert d.crm == {"managerComment": "from 1C"} and d.erp == {} and d.conflicts == []
    assert d.base.fields["managerComment"] == "from 1C"


def test_a_field_changed_on_both_sides_without_an_owner_is_a_conflict():
    orders = MAPPINGS.orders.model_copy(deep=True)
    comment = next(fm for fm in orders.fields if fm.crm == "managerComment")
    comment.owner = "none"
    facts = {
        "base": {"stage": "new", "fields": {"managerComment": "a"}},
        "erp": {"stage": "new", "fields": {"managerComment": "b"}},
        "crm": {"stage": "new", "fields": {"managerComment": "c"}},
    }
    d = reconcile(OrderState.from_stored(facts), orders, MAPPINGS.statuses, lambda fm, v: v)
    assert d.conflicts and "Комментарий" in d.conflicts[0] and d.erp == {} and d.crm == {}


def test_a_field_changed_on_one_side_is_copied_to_the_other():
    from_erp = decide("new", "new", "new", {"number": "1"}, {"number": "2"}, {"number": "1"})
    assert from_erp.crm == {"number": "2"}
    from_crm = decide(
        "new",
        "new",
        "new",
        {"managerComment": ""},
        {"managerComment": ""},
        {"managerComment": "позвонить"},
    )
    assert from_crm.erp == {"Комментарий": "позвонить"}


def test_an_order_written_in_work_but_not_posted_is_not_agreed_and_the_agreement_is_owed():
    from zoneinfo import ZoneInfo

    from syncd.flows.order_mapper import OrderMapper
    from syncd.mappings.transforms import Zones

    mapper = OrderMapper(MAPPINGS, Zones(ZoneInfo("Europe/Moscow"), ZoneInfo("Europe/Moscow")))

    def stage(agreed):  # noqa: ANN001, ANN202
        data = {"Статус": "КОбеспечению", "Posted": True, "Согласован": agreed, "Товары": []}
        return mapper.erp_stage(mapper.erp_side(data))

    # 1C sets Согласован only when it posts a status put into work
    assert (stage(True), stage(False), stage(None)) == ("agreed", "new", "agreed")
    # the CRM agreed, syncd's PATCH went in but not the Post: 1C is still owed it
    d = decide("agreed", stage(False), "agreed")
    assert d.erp == {"Статус": "КОбеспечению"} and d.erp_post


def decide_taking(take, base_stage, erp_stage, crm_stage):
    facts = {
        "base": {"stage": base_stage, "fields": {}},
        "erp": {"stage": erp_stage, "fields": {}},
        "crm": {"stage": crm_stage, "fields": {}},
        "take": take,
    }
    return reconcile(OrderState.from_stored(facts), MAPPINGS.orders, MAPPINGS.statuses,
                     lambda fm, v: v)  # fmt: skip


def test_an_operator_taking_1c_brings_the_crm_to_1c_s_stage():
    d = decide_taking("erp", "new", "shipped", "cancelled")
    assert d.base.stage == "shipped" and d.crm == {"status": "send-to-delivery"}
    assert d.erp == {} and not d.erp_post and d.conflicts == []
    # 1C's stage has no CRM status to write ("new"): the base moves, nothing is written
    quiet = decide_taking("erp", "agreed", "new", "cancelled")
    assert quiet.base.stage == "new" and quiet.crm == {} and quiet.erp == {}


def test_an_operator_taking_the_crm_posts_1c_at_the_crm_s_stage():
    d = decide_taking("crm", "new", "shipped", "cancelled")
    assert d.base.stage == "cancelled" and d.crm == {}
    assert d.erp == {"Статус": "Закрыт"} and d.erp_post is True and d.cancel_lines is True
    agreed = decide_taking("crm", "new", "new", "agreed")
    assert agreed.erp == {"Статус": "КОбеспечению"} and agreed.erp_post is True
    assert agreed.cancel_lines is False
    # the CRM's stage has no 1C write ("shipped"): the base moves, nothing is written
    quiet = decide_taking("crm", "agreed", "agreed", "shipped")
    assert quiet.base.stage == "shipped" and quiet.erp == {} and not quiet.erp_post


def test_taking_a_side_when_both_show_the_same_stage_is_the_usual_decision():
    d = decide_taking("crm", "new", "agreed", "agreed")
    assert d.base.stage == "agreed" and d.erp == {} and d.crm == {} and not d.erp_post


def test_when_both_moved_the_stage_further_ahead_wins_whichever_side_it_is_on():
    crm_ahead = decide("new", "agreed", "shipped")
    assert crm_ahead.base.stage == "shipped" and crm_ahead.crm == {}
    erp_ahead = decide("new", "shipped", "agreed")
    assert erp_ahead.base.stage == "shipped" and erp_ahead.crm == {"status": "send-to-delivery"}
    assert erp_ahead.erp == {} and not erp_ahead.erp_post


def test_a_side_already_at_the_stage_is_not_written_again():
    d = decide("new", "agreed", "new")  # 1C agreed: the CRM follows, 1C is left alone
    assert d.crm == {"status": "client-confirmed"} and d.erp == {} and not d.erp_post


def test_a_stage_the_statuses_do_not_know_moves_nothing():
    d = decide(None, "no-such-stage", None)
    assert d.base.stage is None and d.crm == {} and d.erp == {}


def test_rank_orders_the_stages_then_the_terminal_ones_and_the_unknown_lowest():
    from syncd.flows.order_rules import rank

    statuses = MAPPINGS.statuses.model_copy(update={"terminal": ["cancelled", "lost"]})
    n = len(statuses.stages)
    assert [rank(statuses, s) for s in statuses.stages] == list(range(n))
    assert (rank(statuses, "cancelled"), rank(statuses, "lost")) == (n, n + 1)
    assert rank(statuses, None) == rank(statuses, "no-such-stage") == -1


def fields_of(*maps: FieldMap):
    orders = MAPPINGS.orders.model_copy(deep=True)
    orders.fields = list(maps)
    return orders


def decide_fields(orders, base, erp, crm, take=None, to_erp=lambda fm, v: v):
    facts = {
        "base": {"stage": "new", "fields": base, "note": "kept"},
        "erp": {"stage": "new", "fields": erp},
        "crm": {"stage": "new", "fields": crm},
        "take": take,
    }
    return reconcile(OrderState.from_stored(facts), orders, MAPPINGS.statuses, to_erp)


BOTH = FieldMap(erp="Комментарий", crm="managerComment", direction="both", owner="erp")
TO_ERP = FieldMap(erp="Склад", crm="shipmentStore", direction="crm_to_erp")
TO_CRM = FieldMap(erp="Number", crm="number", direction="erp_to_crm")


def test_a_field_only_one_side_shows_is_still_compared_with_the_base():
    orders = fields_of(BOTH)
    only_erp = decide_fields(orders, {"managerComment": "a"}, {"managerComment": "b"}, {})
    assert only_erp.crm == {"managerComment": "b"}
    only_crm = decide_fields(orders, {"managerComment": "a"}, {}, {"managerComment": "c"})
    assert only_crm.erp == {"Комментарий": "c"} and only_crm.erp_as_crm == {"managerComment": "c"}


def test_values_equal_to_the_base_or_missing_on_a_side_write_nothing():
    orders = fields_of(BOTH, TO_CRM)
    same = {"managerComment": "a", "number": "1"}
    d = decide_fields(orders, dict(same), dict(same), dict(same))
    assert d.crm == {} and d.erp == {} and d.base.fields == same
    missing = decide_fields(orders, dict(same), {"number": "1"}, {"managerComment": "a"})
    assert missing.crm == {} and missing.erp == {}


def test_a_field_copied_one_way_only_moves_that_way():
    orders = fields_of(TO_ERP, TO_CRM)
    from_crm = decide_fields(orders, {"shipmentStore": "s1"}, {"shipmentStore": "s1"},
                             {"shipmentStore": "s2"})  # fmt: skip
    assert from_crm.erp == {"Склад": "s2"} and from_crm.crm == {}
    ignored = decide_fields(orders, {"shipmentStore": "s1"}, {"shipmentStore": "s9"},
                            {"shipmentStore": "s1"})  # fmt: skip
    assert ignored.erp == {} and ignored.crm == {}
    number = decide_fields(orders, {"number": "1"}, {"number": "1"}, {"number": "2"})
    assert number.erp == {} and number.crm == {}  # the CRM may not change 1C's number


def test_one_side_changing_a_field_is_no_clash_whoever_owns_it():
    d = decide_fields(fields_of(BOTH), {"managerComment": "a"}, {"managerComment": "a"},
                      {"managerComment": "from CRM"})  # fmt: skip
    assert d.erp == {"Комментарий": "from CRM"} and d.crm == {} and d.conflicts == []


def test_an_operator_s_take_overrides_the_owner_of_a_field():
    d = decide_fields(fields_of(BOTH), {"managerComment": "a"}, {"managerComment": "b"},
                      {"managerComment": "c"}, take="crm")  # fmt: skip
    assert d.erp == {"Комментарий": "c"} and d.base.fields["managerComment"] == "c"


def test_a_clash_with_no_owner_does_not_stop_the_fields_after_it():
    nobody = FieldMap(erp="Комментарий", crm="managerComment", direction="both", owner="none")
    d = decide_fields(fields_of(nobody, TO_CRM), {"managerComment": "a", "number": "1"},
                      {"managerComment": "b", "number": "2"},
                      {"managerComment": "c", "number": "1"})  # fmt: skip
    assert len(d.conflicts) == 1 and d.crm == {"number": "2"}
    calm = decide_fields(fields_of(TO_CRM, nobody), {"number": "1", "managerComment": "a"},
                         {"number": "1", "managerComment": "a"},
                         {"number": "1", "managerComment": "z"})  # fmt: skip
    assert calm.erp == {"Комментарий": "z"}  # a field with nothing to do before it


def test_the_value_for_1c_comes_from_the_field_s_transform_and_the_base_keeps_its_keys():
    def to_erp(fm, value):
        return f"{fm.erp}={value}"

    d = decide_fields(fields_of(BOTH), {"managerComment": "a", "other": 1}, {},
                      {"managerComment": "c"}, to_erp=to_erp)  # fmt: skip
    assert d.erp == {"Комментарий": "Комментарий=c"}
    assert d.base.fields == {"managerComment": "c", "other": 1}
    assert d.base.extra == {"note": "kept"}


def test_an_order_without_a_side_yet_is_decided_without_it():
    state = OrderState.from_stored({"base": {"stage": "new", "fields": {}},
                                    "crm": {"stage": "agreed", "fields": {}}})  # fmt: skip
    d = reconcile(state, MAPPINGS.orders, MAPPINGS.statuses, lambda fm, v: v)
    assert d.base.stage == "agreed" and d.erp == {}
    no_crm = OrderState.from_stored({"erp": {"stage": "agreed"}})
    d = reconcile(no_crm, MAPPINGS.orders, MAPPINGS.statuses, lambda fm, v: v)
    assert d.base.stage == "agreed" and d.crm == {}
