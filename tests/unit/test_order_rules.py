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
