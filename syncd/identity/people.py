"""A record as the model compares it: what identifies the person, in one spelling each.

A ``Record`` comes from a source with whatever it has: a receipt's card and
phone, a 1C partner's full name and contacts, a CRM customer's names, birth
date and address.  ``person_of`` turns it into a ``Person``: identifiers as
``keys`` spells them (a phone in E.164, a card in upper case), names in lower
case with ё as е, a birth date as ``YYYY-MM-DD``, the address parts in lower
case.  A source with only a full name (1C's ``Description``: "Фамилия Имя
Отчество") has it split as 1C and the CRM payload write it: surname, given
name, patronymic (a third word that is no patronymic goes with the given
name); the comparison counts a given name and surname swapped as agreeing,
so "Анна Иванова" from a till still meets "Иванова Анна".

    person_of(Record("erp", "p-1", "Иванова Анна Сергеевна", phones=["89123456789"]))
    # Person(given="анна", surname="иванова", patronymic="сергеевна", phones=("+79123456789",))

``to_json``/``from_json`` keep a person in the store (``identity_records.person``)
as a short list, not a dict: a million of them are read back when compared.
"""

from __future__ import annotations

import json
import re
from datetime import date

from syncd.identity import keys
from syncd.identity.comparisons import Person
from syncd.identity.keys import Record

PATRONYMIC = re.compile(r"(вич|вна|ична|инична|ovich|evich|ovna|evna|ichna)$")
DATE_FORMS = (
    re.compile(r"^(\d{4})-(\d{2})-(\d{2})"),  # ISO, also 1C's 1985-03-07T00:00:00
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),  # FEBRL's 19850307
)
DAY_FIRST = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")  # 07.03.1985
FIELDS = ("given", "surname", "patronymic", "birth_date", "phones", "emails", "cards",
          "street", "house", "postcode", "city")  # fmt: skip


def low(text: object) -> str:
    if not text:
        return ""
    return " ".join(str(text).lower().replace("ё", "е").split())


def birth_date(raw: object) -> str:
    """``YYYY-MM-DD``, or "" for no date (1C's empty date 0001-01-01 too).

    A value in a date's shape is kept even when no calendar has that day
    (``1945-04-93``): it is most likely a typo of the right date, and compared
    with it as one."""
    text = str(raw or "").strip()
    for form in DATE_FORMS:
        if m := form.match(text):
            year, month, day = m.groups()
            break
    else:
        if not (m := DAY_FIRST.match(text)):
            return ""
        day, month, year = m.groups()
    if year < "1800":
        return ""
    return f"{year}-{month.zfill(2)}-{day.zfill(2)}"


def calendar_date(raw: object) -> str:
    """``birth_date`` only when a calendar has that day (what another system may be sent)."""
    text = birth_date(raw)
    try:
        return date.fromisoformat(text).isoformat() if text else ""
    except ValueError:
        return ""


def split_name(full: str) -> tuple[str, str, str]:
    """(given, surname, patronymic) of a full name written in one field."""
    words = low(full).replace(",", " ").split()
    if len(words) >= 3 and PATRONYMIC.search(words[-1]):
        return " ".join(words[1:-1]), words[0], words[-1]
    if len(words) >= 2:
        return " ".join(words[1:]), words[0], ""
    return (words[0], "", "") if words else ("", "", "")


def person_of(record: Record, region: str = "RU") -> Person:
    given, surname, patronymic = low(record.given), low(record.surname), low(record.patronymic)
    if not (given or surname) and record.name:
        given, surname, split_patronymic = split_name(record.name)
        patronymic = patronymic or split_patronymic
    return Person(
        given=given,
        surname=surname,
        patronymic=patronymic,
        birth_date=birth_date(record.birth_date),
        phones=_each(keys.phone(p, region) for p in record.phones),
        emails=_each(keys.email(e) for e in record.emails),
        cards=_each(keys.card(c) for c in record.cards),
        street=low(record.street),
        house=low(record.house),
        postcode=low(record.postcode).replace(" ", ""),
        city=low(record.city),
    )


def _each(values) -> tuple[str, ...]:  # noqa: ANN001
    return tuple(dict.fromkeys(v for v in values if v))


def to_json(person: Person) -> str:
    values = [getattr(person, f) for f in FIELDS]
    values = [list(v) if isinstance(v, tuple) else v for v in values]
    while values and not values[-1]:
        values.pop()  # trailing empty fields left out
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def from_json(text: str) -> Person:
    values = json.loads(text)
    kwargs = {}
    for name, value in zip(FIELDS, values, strict=False):
        kwargs[name] = tuple(value) if isinstance(value, list) else value
    return Person(**kwargs)


def has_identity(person: Person) -> bool:
    """Something to match by: an identifier, or a name with a birth date or an address."""
    if person.phones or person.emails or person.cards:
        return True
    named = bool(person.given or person.surname)
    return named and bool(person.birth_date or (person.street and person.house))
