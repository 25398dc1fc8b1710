"""The bindings' facts as stored: deflated against a frozen dictionary, read back exactly."""

from __future__ import annotations

import hashlib
import json

import pytest

from syncd.store import bindings, facts_codec

# an order's facts as the order flow leaves them after agreeing (the shape of a soak's row)
ORDER = {
    "base": {
        "fields": {
            "createdAt": "2026-11-28 00:05:41",
            "delivery.address.text": "Москва, ул. Тверская, д. 7, кв. 12",
            "delivery.code": "courier",
            "managerComment": "позвонить за час",
            "number": "ЗК-00004000",
        },
        "stage": "agreed",
    },
    "created": True,
    "crm": {
        "event": 19045,
        "fields_delta": {},
        "history_id": 14636,
        "id": 4000,
        "stage": "agreed",
        "status": "client-confirmed",
    },
    "erp": {
        "agreed": True,
        "all_cancelled": False,
        "customer": "3709d0a3-b71a-445c-b5b8-e0d045529ae3",
        "date": "2026-11-28T00:05:41",
        "event": 19047,
        "fields_delta": {"managerComment": ""},
        "posted": True,
        "stage": "agreed",
        "state": "ГотовКОбеспечению",
        "state_event": 19048,
        "status": "КОбеспечению",
        "total": 4310.5,
        "version": "AAAAAAAAAAQ=",
    },
    "figures": {"at": "2026-11-28", "customer": 209, "stage": "agreed", "total": 4310.5},
}
# z1 is a stored format: this row, written by the first syncd to pack facts, reads back
# the same for good (were the dictionary or the window changed, it would not)
STORED_Z1 = "z1:w5a6UCPbEDmmQfkMOZrBoVoLAA=="
# the dictionary digest: part of the z1 format, like the row above
DICTIONARY_SHA256 = "f38dedac6575605d7b011c547a75164817678303747027283109e35da63cf4b8"


def canonical(facts: dict) -> str:
    return bindings.facts_text(facts)


def test_an_orders_facts_read_back_exactly_and_take_two_fifths():
    text = canonical(ORDER)
    stored = facts_codec.pack(text)
    assert stored.startswith("z1:")
    assert facts_codec.unpack(stored) == text
    assert len(stored) < 0.4 * len(text.encode("utf-8"))  # 291 of 870 bytes


def test_facts_that_would_not_shrink_are_stored_as_json():
    assert facts_codec.pack('{"a":1}') == '{"a":1}'
    assert facts_codec.unpack('{"a":1}') == '{"a":1}'  # JSON stored before 0009 reads as is


def test_a_row_packed_by_an_earlier_syncd_reads_back_the_same():
    assert json.loads(facts_codec.unpack(STORED_Z1)) == {
        "base": {"fields": {"number": "ЗК-1"}, "stage": "new"},
        "created": False,
    }


def test_the_dictionary_is_frozen():
    """Changing it would make every stored ``z1:`` row unreadable: a new one is ``z2:``."""
    assert hashlib.sha256(facts_codec.DICTIONARY).hexdigest() == DICTIONARY_SHA256
    assert facts_codec.unpack(facts_codec.pack(canonical(ORDER))) == canonical(ORDER)


@pytest.mark.parametrize(
    "stored", ["z1:not base64!", "z1:w5a6UCPbEDmmQfkM", "z1:AAAA"], ids=["junk", "cut", "bad"]
)
def test_a_damaged_row_is_a_clear_error(stored):
    with pytest.raises(facts_codec.BadFacts, match="cannot be unpacked"):
        facts_codec.unpack(stored)
