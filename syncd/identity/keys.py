"""What identifies a person, in one spelling each.

- phones: E.164 with phonenumbers, default region RU — ``8 (912) 345-67-89``,
  ``+7 912 3456789``, ``79123456789`` and ``89123456789`` are one number;
- e-mails: trimmed, lower case (a plausible address only);
- loyalty cards: letters and digits only, upper case, at least 4 of them;
- names: lower case, ``ё`` as ``е``, words sorted — for fuzzy scoring only,
  never a key.

A key is ``kind:value`` (``p:+79123456789``, ``e:anna@example.ru``,
``c:0012345678``); the store indexes them as blocking keys.

    keys_of(Record("pos", "r-1", phones=["89123456789"]))   # ["p:+79123456789"]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers

STRENGTH = {"c": 3, "p": 2, "e": 1}  # a card names one person best, then a phone, an e-mail
NON_DIGITS = re.compile(r"\D")
LETTERS = re.compile(r"[^\W\d_]")  # an extension written in words, a name in the field


@dataclass
class Record:
    """One sighting of a person: an ERP partner, a CRM customer, a receipt's buyer."""

    source: str  # "erp", "crm", "pos:<group>"
    source_id: str
    name: str = ""
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    cards: list[str] = field(default_factory=list)
    # the buyer on a receipt: bound only when it changes the customer (makes it, brings a
    # key or a fuller name, or merges two); a repeat purchase matched by a known key
    # is not kept, so the identity tables grow with people, not with receipts
    receipt: bool = False
    # what else tells people apart, where the source has it (the model compares it; see
    # syncd/identity/people.py): names apart or in ``name``, a birth date, an address
    given: str = ""
    surname: str = ""
    patronymic: str = ""
    birth_date: str = ""
    street: str = ""
    house: str = ""
    postcode: str = ""
    city: str = ""


@lru_cache(maxsize=4096)  # cashiers' files repeat the same numbers
def phone(raw: object, region: str = "RU") -> str | None:
    text = str(raw or "").strip()
    if not text:
        return None
    digits = NON_DIGITS.sub("", text)
    if region == "RU" and not LETTERS.search(text):
        # the usual Russian forms, without the general parser: 8 912…, 7 912…, +7 912…
        if len(digits) == 11 and digits[0] in "78":
            return "+7" + digits[1:]
        if len(digits) == 10 and not text.startswith("+"):
            return "+7" + digits
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email(raw: object) -> str | None:
    text = str(raw or "").strip().lower()
    local, at, domain = text.partition("@")
    if not (local and at and "." in domain[1:-1]) or " " in text or "@" in domain:
        return None
    return text


CARD_NOISE = str.maketrans("", "", " -./_")


def card(raw: object) -> str | None:
    text = str(raw or "").translate(CARD_NOISE).upper()
    if not text.isascii() or not text.isalnum():
        text = re.sub(r"[^0-9A-Z]", "", text)
    return text if len(text) >= 4 else None


NAME_NOISE = str.maketrans({c: " " for c in ".,;:-_'\"()/\\"})


def name(raw: object) -> str:
    text = str(raw or "").lower().replace("ё", "е").translate(NAME_NOISE)
    return " ".join(sorted(text.split()))


def keys_of(record: Record, region: str = "RU") -> list[str]:
    """The record's blocking keys, strongest first, each once."""
    found = []
    for raw in record.cards:
        if value := card(raw):
            found.append("c:" + value)
    for raw in record.phones:
        if value := phone(raw, region):
            found.append("p:" + value)
    for raw in record.emails:
        if value := email(raw):
            found.append("e:" + value)
    return list(dict.fromkeys(found))
