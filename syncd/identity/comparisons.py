"""How two records of people compare, field by field: the levels Fellegi–Sunter weighs.

A ``Person`` holds what identifies someone, normalised once (phones in E.164,
cards and e-mails as ``keys`` spells them, dates as ``YYYY-MM-DD``, the rest
case-folded with ё as е).  ``compare`` gives each field's level for a pair —
0 the strongest agreement, larger weaker, the last one "different" — or None
when either side lacks the field, so that a missing value neither helps nor
hurts.  Names are compared by ``syncd.identity.names`` when it is installed
(transliteration, diminutives, gendered surnames); here on their own form.

    compare(Person(surname="иванова", phones=("+79123456789",)),
            Person(surname="иванова", phones=("+79123456798",)))
    # {"phone": 1, "surname": 0, ...}    the phones one swap apart
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import JaroWinkler, Levenshtein

from syncd.identity.near_keys import one_edit_apart

CLOSE = 0.92  # Jaro-Winkler similarity from which two words count as close
# field -> number of levels (what the model is built with)
LEVELS = {
    "phone": 3,  # same, one edit apart, different
    "card": 3,
    "email": 3,  # same, same mailbox name elsewhere or one edit apart, different
    "birth_date": 3,  # same, a typo or day and month swapped, different
    "postcode": 3,  # same, one edit apart, different
    "street": 3,  # same, close, different
    "house": 2,
    "city": 3,
}


@dataclass(frozen=True)
class Person:
    given: str = ""
    surname: str = ""
    patronymic: str = ""
    birth_date: str = ""  # YYYY-MM-DD
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    cards: tuple[str, ...] = ()
    street: str = ""
    house: str = ""
    postcode: str = ""
    city: str = ""


def compare(a: Person, b: Person) -> dict[str, int | None]:
    """Every field's level for the pair (None: missing on either side)."""
    return {
        "phone": _numbers(a.phones, b.phones),
        "card": _numbers(a.cards, b.cards),
        "email": _emails(a.emails, b.emails),
        "birth_date": _date(a.birth_date, b.birth_date),
        "postcode": _code(a.postcode, b.postcode),
        "street": words_level(a.street, b.street),
        "house": None if not (a.house and b.house) else (0 if a.house == b.house else 1),
        "city": words_level(a.city, b.city),
    }


def _numbers(a: tuple[str, ...], b: tuple[str, ...]) -> int | None:
    if not a or not b:
        return None
    if set(a) & set(b):
        return 0
    if any(one_edit_apart(x, y) for x in a for y in b):
        return 1
    return 2


def _emails(a: tuple[str, ...], b: tuple[str, ...]) -> int | None:
    if not a or not b:
        return None
    if set(a) & set(b):
        return 0
    for x in a:
        for y in b:
            lx, ly = x.partition("@")[0], y.partition("@")[0]
            if lx == ly and len(lx) >= 4:
                return 1  # the same mailbox name at another provider
            if Levenshtein.distance(x, y) <= 1 and _without_digits(x) != _without_digits(y):
                return 1  # a typo; a number told apart (anna1@, anna2@) is another mailbox
    return 2


def _without_digits(text: str) -> str:
    return text.translate(_DIGITS)


_DIGITS = str.maketrans("", "", "0123456789")


def _date(a: str, b: str) -> int | None:
    if not a or not b:
        return None
    if a == b:
        return 0
    ya, ma, da = (a.split("-") + ["", "", ""])[:3]
    yb, mb, db = (b.split("-") + ["", "", ""])[:3]
    swapped = ya == yb and ma == db and da == mb
    typo = len(a) == len(b) and one_edit_apart(a, b)  # a digit off, or two swapped
    return 1 if swapped or typo else 2


def _code(a: str, b: str) -> int | None:
    if not a or not b:
        return None
    if a == b:
        return 0
    return 1 if one_edit_apart(a, b) else 2


def words_level(a: str, b: str) -> int | None:
    """0 the same, 1 close (Jaro-Winkler >= CLOSE), 2 different; None: either missing."""
    if not a or not b:
        return None
    if a == b:
        return 0
    return 1 if JaroWinkler.similarity(a, b) >= CLOSE else 2
