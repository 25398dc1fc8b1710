"""1C nudges: what a ``/webhooks/1c`` body must look like, and what a re-read that fails does.

A body is checked before the call is answered: anything wrong is a
ValueError (a 400) naming the item and the field, never another exception.
At the stream's run, a nudge 1C refuses for good is a dead letter alone; one
1C does not answer waits for the next run, a bounded number of times.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.connectors.onec.changes import EntryReader
from syncd.connectors.onec.errors import ErpNotFound, ErpRequestError, ErpUnavailable
from syncd.connectors.onec.metadata import Metadata
from syncd.connectors.onec.nudges import (
    REREAD_TRIES,
    NamedObject,
    Nudge,
    Nudges,
    checked_key,
    key_path,
    named_objects,
    reread,
)
from syncd_sandbox.erp_schema import metadata_xml
from tests.support.erp import ORDERS, STATES

GUID = "8d1d7287-6e2b-4c5a-9f3e-2b7c1a0e5d44"
META = Metadata.parse(metadata_xml())
SETS = {ORDERS: "order", STATES: "order_state"}


def body(value) -> bytes:  # noqa: ANN001
    return json.dumps(value, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"", "body is empty"),
        (b"\xff\xfe{", "not UTF-8"),
        (b"{nope", "not valid JSON"),
        (b"[" * 40 + b"]" * 40, "nests deeper than"),
        (body([]), "names no object"),
        (body("Document_X"), "expected an object"),
        (body({"ref": GUID}), "type: expected a 1C set name"),
        (body({"type": "Document X", "ref": GUID}), "type: not a 1C set name"),
        (body({"type": ORDERS}), "neither ref nor key"),
        (body({"type": ORDERS, "ref": GUID, "key": {"Ref_Key": GUID}}), "both ref and key"),
        (body({"type": ORDERS, "ref": "not-a-guid"}), "ref: expected a GUID"),
        (body({"type": ORDERS, "ref": 42}), "ref: expected a GUID"),
        (body({"type": ORDERS, "ref": "00000000-0000-0000-0000-000000000000"}), "empty reference"),
        (body({"type": STATES, "key": []}), "key: expected an object of key fields"),
        (body({"type": STATES, "key": {}}), "key: expected an object of key fields"),
        (body({"type": STATES, "key": {"a b": 1}}), "key: not a field name"),
        (body({"type": STATES, "key": {"Заказ": {"x": 1}}}), "key.Заказ: expected text"),
        (body({"type": STATES, "key": {"Заказ": None}}), "key.Заказ: expected text"),
        (body({"type": STATES, "key": {"Заказ": "я" * 2000}}), "text over 1024"),
        (body([{"type": ORDERS, "ref": GUID}, 7]), "item 2: expected an object"),
        (body([{"type": ORDERS, "ref": GUID}] * 1001), "at most 1000"),
    ],
)
def test_a_malformed_body_is_refused_with_what_is_wrong(raw: bytes, says: str):
    with pytest.raises(ValueError, match=says) as refused:
        named_objects(raw)
    assert str(refused.value).startswith("1C webhook")


def test_ref_and_key_forms_name_objects_and_a_bom_is_fine():
    raw = body([{"type": ORDERS, "ref": GUID.upper()}, {"type": STATES, "key": {"Заказ": "x"}}])
    assert named_objects(b"\xef\xbb\xbf" + raw) == [
        NamedObject(ORDERS, {"Ref_Key": GUID}, "1C webhook: item 1"),
        NamedObject(STATES, {"Заказ": "x"}, "1C webhook: item 2"),
    ]


@pytest.mark.parametrize(
    ("named", "says"),
    [
        (NamedObject(ORDERS, {"Номер": "1"}, "1C webhook"), "keyed by Ref_Key alone"),
        (NamedObject(STATES, {"Ref_Key": GUID}, "1C webhook"), "a register record has no Ref_Key"),
        (NamedObject(STATES, {"Заказ_Type": "x"}, "1C webhook"), "missing key.Заказ beside"),
        (NamedObject(STATES, {"Recorder": "x"}, "1C webhook"), "missing key.Recorder_Type"),
    ],
)
def test_before_metadata_is_read_the_documented_shape_is_checked(named, says):  # noqa: ANN001
    with pytest.raises(ValueError, match=says):
        checked_key(named, None)


def test_once_metadata_is_read_every_key_field_and_its_type_is_checked():
    states, orders = META.entity(STATES), META.entity(ORDERS)
    with pytest.raises(ValueError, match="missing key.Заказ_Type: .* keyed by Заказ, Заказ_Type"):
        checked_key(NamedObject(STATES, {"Заказ": GUID}, "1C webhook"), states)
    extra = {"Заказ": GUID, "Заказ_Type": "StandardODATA.Document_ЗаказКлиента", "Лишнее": 1}
    with pytest.raises(ValueError, match="unexpected key.Лишнее"):
        checked_key(NamedObject(STATES, extra, "1C webhook"), states)
    with pytest.raises(ValueError, match="key.Ref_Key: expected a GUID"):
        checked_key(NamedObject(ORDERS, {"Ref_Key": "x"}, "1C webhook"), orders)
    full = {"Заказ_Type": "StandardODATA.Document_ЗаказКлиента", "Заказ": GUID}
    assert checked_key(NamedObject(STATES, full, "1C webhook"), states) == {
        "Заказ": GUID,
        "Заказ_Type": "StandardODATA.Document_ЗаказКлиента",
    }


def test_a_key_is_written_into_the_url_as_its_metadata_type_says():
    assert key_path(META.entity(ORDERS), ORDERS, {"Ref_Key": GUID}) == f"{ORDERS}(guid'{GUID}')"
    key = {"Заказ": GUID, "Заказ_Type": "StandardODATA.Document_ЗаказКлиента"}
    assert key_path(META.entity(STATES), STATES, key) == (
        f"{STATES}(Заказ='{GUID}',Заказ_Type='StandardODATA.Document_ЗаказКлиента')"
    )
    with pytest.raises(ValueError, match="keyed by Заказ, Заказ_Type"):
        key_path(META.entity(STATES), STATES, {"Заказ": GUID})


class FakeErp:
    """Answers a re-read by path: an entry, or an error to raise."""

    def __init__(self, answers: dict[str, object]) -> None:
        self.answers, self.asked = answers, []

    def get_json(self, path: str) -> object:
        self.asked.append(path)
        answer = self.answers[path]
        if isinstance(answer, Exception):
            raise answer
        return answer


def order_path(ref: str) -> str:
    return f"{ORDERS}(guid'{ref}')"


REFS = [f"{n}d1d7287-6e2b-4c5a-9f3e-2b7c1a0e5d44" for n in range(1, 5)]


def reader() -> EntryReader:
    return EntryReader("erp", "erp_changes", SETS, META)


def test_a_refused_reread_is_rejected_alone_and_the_others_are_read():
    erp = FakeErp(
        {
            order_path(REFS[0]): ErpRequestError(400, 4, "bad property value"),
            order_path(REFS[1]): ErpNotFound(404, 9, "instance not found"),
            order_path(REFS[2]): ["not", "an", "entry"],
            order_path(REFS[3]): ErpNotFound(404, 9, "instance not found"),
        }
    )
    nudges = [Nudge(ORDERS, {"Ref_Key": ref}) for ref in REFS]
    nudges.insert(1, Nudge(STATES, {"Заказ": "x"}))  # no key of its set

    outcome = reread(erp, reader(), nudges, "nudge:1")

    assert [e.external_id for e in outcome.events] == [REFS[1], REFS[3]]  # gone: tombstones
    refused, no_key, not_entry = (r.error for r in outcome.rejected)
    assert refused.startswith(f"1C refused the re-read of {order_path(REFS[0])}: 1C 400")
    assert no_key.startswith(f"not a key of {STATES}: {STATES} is keyed by Заказ, Заказ_Type")
    assert not_entry == f"1C answered {order_path(REFS[2])} with a list"
    assert outcome.rejected[0].subject == f"1C webhook nudge: {ORDERS} {REFS[0]}"
    assert outcome.later == [] and outcome.error is None


def test_when_1c_does_not_answer_the_nudges_wait_a_bounded_number_of_runs():
    queue = Nudges(SETS, "/webhooks/1c", lambda: META)
    queue.take(SimpleNamespace(body=body([{"type": ORDERS, "ref": r} for r in REFS[:2]])))
    erp = FakeErp({order_path(REFS[0]): ErpUnavailable(503, None, "busy")})

    for _ in range(REREAD_TRIES - 1):
        events, rejected = queue.reread_pending(erp, reader, "nudge:1")
        assert events == [] and rejected == []  # the stream goes on; they wait
    events, rejected = queue.reread_pending(erp, reader, "nudge:2")

    assert events == [] and len(rejected) == 2
    assert f"1C did not answer {REREAD_TRIES} re-reads" in rejected[0].error
    assert queue.reread_pending(erp, reader, "nudge:3") is None  # nothing waits for ever
    assert erp.asked == [order_path(REFS[0])] * REREAD_TRIES


def test_a_metadata_read_that_fails_keeps_every_nudge_without_counting_a_try():
    queue = Nudges(SETS, "/webhooks/1c", lambda: None)
    queue.take(SimpleNamespace(body=body({"type": ORDERS, "ref": REFS[0]})))

    def unreachable() -> EntryReader:
        raise ErpUnavailable(503, None, "busy")

    for _ in range(REREAD_TRIES + 1):
        with pytest.raises(ErpUnavailable):
            queue.reread_pending(FakeErp({}), unreachable, "nudge:1")
    erp = FakeErp({order_path(REFS[0]): ErpNotFound(404, 9, "instance not found")})
    events, rejected = queue.reread_pending(erp, reader, "nudge:2")
    assert [e.external_id for e in events] == [REFS[0]] and rejected == []


def test_a_call_is_recorded_only_when_accepted():
    queue = Nudges(SETS, "/webhooks/1c", lambda: None)
    intake = queue.intake(SimpleNamespace(body=body({"type": ORDERS, "ref": GUID})))
    assert intake.taken == [ORDERS] and queue.drain() == []
    intake.accept()
    assert queue.drain() == [Nudge(ORDERS, {"Ref_Key": GUID})]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
ITEMS = st.fixed_dictionaries(
    {"type": st.sampled_from([ORDERS, STATES, "Document_Другой", "x y", ""]) | JSON},
    optional={"ref": st.sampled_from([GUID, "not-a-guid", ""]) | JSON, "key": JSON},
)


@settings(max_examples=300, deadline=None)
@given(
    raw=st.binary(max_size=200)
    | JSON.map(body)
    | ITEMS.map(body)
    | st.lists(ITEMS, max_size=4).map(body),
    known=st.booleans(),
)
def test_whatever_the_body_the_intake_answers_or_says_why_not(raw: bytes, known: bool):
    queue = Nudges(SETS, "/webhooks/1c", lambda: META if known else None)
    try:
        intake = queue.intake(SimpleNamespace(body=raw))
    except ValueError as refused:
        assert str(refused).startswith("1C webhook")
    else:
        assert intake.taken or intake.ignored
