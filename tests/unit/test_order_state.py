"""What syncd remembers of an order, typed: rows stored before the model read and store back."""

from __future__ import annotations

import json

from syncd.flows import customer_figures as cf
from syncd.flows import order_facts
from syncd.flows.order_state import Counted, ErpSide, OrderState

# a row as the order flow stored it before the typed state (a soak's, packed), with the
# nulls it stored then (no agreed flag mapped, a CRM status not in statuses.yaml)
STORED = json.loads("""{
 "base": {"fields": {"createdAt": "2026-11-28 00:05:41", "delivery.code": "self-delivery",
                     "managerComment": "", "number": "ЗК-00004000"}, "stage": "agreed"},
 "created": true,
 "crm": {"event": 19045, "fields_delta": {}, "history_id": 14636, "id": 4000,
         "stage": null, "status": "client-confirmed"},
 "erp": {"agreed": null, "all_cancelled": false, "customer": "3709d0a3-b71a-445c-b5b8-e0d045529ae3",
         "date": "2026-11-28T00:05:41", "event": 19047, "fields_delta": {"number": "ЗК-4000"},
         "posted": true, "stage": "agreed", "state": "ГотовКОбеспечению", "state_event": 19048,
         "status": "КОбеспечению", "total": 4310.0, "version": "AAAAAAAAAAQ="},
 "figures": {"at": "2026-11-28", "customer": 209, "stage": "agreed", "total": 4310.0},
 "take": "crm"
}""")


def without_nulls(value):
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    return value


def test_a_row_stored_before_the_model_reads_as_typed_state():
    state = OrderState.from_stored(order_facts.unpack(STORED))
    assert state.created and state.take == "crm" and state.base_stage == "agreed"
    assert state.erp.version == "AAAAAAAAAAQ=" and state.erp.state_event == 19048
    assert state.erp.fields["number"] == "ЗК-4000"  # its own value, not the base's
    assert state.erp.fields["managerComment"] == ""  # the base's, left out when stored
    assert state.crm.history_id == 14636 and state.crm.stage is None
    assert state.counted == Counted(at="2026-11-28", stage="agreed", total=4310.0, customer=209)
    entry = cf.counted_before(state.counted.stored(), 209)
    assert entry == {"at": "2026-11-28", "stage": "agreed", "total": 4310.0}


def test_it_stores_back_the_same_row_but_for_the_nulls():
    state = OrderState.from_stored(order_facts.unpack(STORED))
    assert order_facts.pack(state.stored()) == without_nulls(STORED)


def test_keys_syncd_does_not_know_are_kept():
    stored = {**STORED, "robot": {"checked": True}, "erp": {**STORED["erp"], "stock": 3}}
    state = OrderState.from_stored(order_facts.unpack(stored))
    back = order_facts.pack(state.stored())
    assert back["robot"] == {"checked": True} and back["erp"]["stock"] == 3


def test_changing_the_state_leaves_the_row_it_was_read_from_alone():
    unpacked = order_facts.unpack(STORED)
    before = json.dumps(unpacked, sort_keys=True)
    state = OrderState.from_stored(unpacked)
    state.erp.fields["number"] = "changed"
    state.base.fields["number"] = "changed"
    state.crm.fields["managerComment"] = "changed"
    assert json.dumps(unpacked, sort_keys=True) == before


def test_an_order_event_takes_what_1c_shows_but_not_the_state_record():
    side = ErpSide(state="ГотовКОтгрузке", state_event=7, stage="agreed", event=5, version="A")
    side.take(ErpSide(version="B", status="КОтгрузке", fields={"number": "1"}, posted=True))
    assert (side.version, side.status, side.posted) == ("B", "КОтгрузке", True)
    assert (side.state, side.state_event, side.stage, side.event) == (
        "ГотовКОтгрузке",
        7,
        "agreed",
        5,
    )
    assert side.agreed is None and side.lines is None  # what the event did not show is gone


def test_an_empty_row_is_an_order_not_yet_seen():
    state = OrderState.from_stored({})
    assert state.erp is None and state.crm is None and not state.created
    assert state.stored() == {}
    state.erp_side().version = "A"
    assert state.stored() == {"erp": {"version": "A"}}


def test_only_keys_syncd_does_not_know_are_extra():
    state = OrderState.from_stored(order_facts.unpack(STORED))
    assert state.extra == {} and state.erp.extra == {} and state.crm.extra == {}
    assert state.created is True and state.take == "crm"


def test_a_side_asked_for_is_the_one_held_or_a_new_one_kept():
    state = OrderState.from_stored(order_facts.unpack(STORED))
    held = state.crm
    assert state.crm_side() is held and state.erp_side() is state.erp
    empty = OrderState()
    made = empty.crm_side()
    assert empty.crm is made and made.stored() == {}
