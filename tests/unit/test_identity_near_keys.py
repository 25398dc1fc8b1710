"""Near-miss keys: a number one keystroke off shares a key; the confirmation is exact."""

from __future__ import annotations

import random

import pytest

from syncd.identity.near_keys import near_keys, one_edit_apart

CARD = "4276380012345678"


def edits(number: str) -> dict[str, str]:
    i = 5
    return {
        "substituted": number[:i] + str((int(number[i]) + 1) % 10) + number[i + 1 :],
        "deleted": number[:i] + number[i + 1 :],
        "inserted": number[:i] + "9" + number[i:],
        "swapped": number[:i] + number[i + 1] + number[i] + number[i + 2 :],
    }


@pytest.mark.parametrize("kind", ["substituted", "deleted", "inserted", "swapped"])
def test_a_number_one_edit_off_shares_a_key_and_is_confirmed(kind):
    other = edits(CARD)[kind]
    assert set(near_keys("c", CARD)) & set(near_keys("c", other))
    assert one_edit_apart(CARD, other) and one_edit_apart(other, CARD)


def test_numbers_further_apart_are_not_confirmed():
    assert not one_edit_apart(CARD, CARD)
    assert not one_edit_apart(CARD, "4276380012345600")  # two digits differ
    assert not one_edit_apart(CARD, CARD[1:] + CARD[0])  # a digit moved to the end
    assert set(near_keys("c", CARD)) & set(near_keys("c", CARD[1:] + CARD[0]))  # a candidate


def test_random_numbers_rarely_share_a_key():
    rnd = random.Random(7)
    numbers = ["9" + "".join(rnd.choices("0123456789", k=9)) for _ in range(20000)]
    owners: dict[str, int] = {}
    shared = 0
    for n, number in enumerate(numbers):
        keys = near_keys("p", number)
        shared += any(k in owners for k in keys)
        owners.update(dict.fromkeys(keys, n))
    assert shared / len(numbers) < 0.01  # candidates stay few; the model weighs them


def test_kinds_and_short_numbers():
    assert not set(near_keys("p", CARD)) & set(near_keys("c", CARD))
    assert near_keys("c", "12345") == ()  # too short to be evidence when near
    assert near_keys("c", "12a4567890") == ()
    assert len(near_keys("c", "4276381012345678")) == 16 + 1  # no digit next to its double
    assert len(near_keys("c", CARD)) == 16  # "00": leaving out either zero is one key
