"""How a duplicate record goes wrong: the errors a cashier, a form or a person makes.

A duplicate starts as a copy of the person's original record and gets one to
four modifications (``corrupt``), each drawn by kind, FEBRL-like:

- ``typo.<insert|delete|substitute|transpose>:<field>`` — one keystroke wrong, in a
  name, a street, a town, an e-mail's local part, a birth date, and in the digits of a
  phone, a card, a postcode or a house number (a neighbouring key mostly);
- ``missing:<field>`` — left empty;
- ``swap_names`` — given name and surname exchanged;
- ``replace:<phone|email|card|address>`` — a new value (a new number, a moved person);
- ``street_form`` — the street written another way (``ул. Ленина``/``улица Ленина``/``Ленина``);
- Russian only: ``translit`` (the names in Latin letters, in one of three spellings),
  ``yo_e`` (ё written е, or the other way round), ``diminutive`` (Саша for Александр).

Phones are kept as their ten national digits and written out per record in
one of the ways people write them (``phone_text``): +7, 8, spaces, dashes.

    fields, tags = corrupt(original, rnd, "russian", fresh)
    # tags == ["typo.transpose:card", "diminutive"]
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

from bench.identity_vocab import DIMINUTIVES_RU, STREET_KINDS_EN, STREET_KINDS_RU, latin

_ROWS_EN = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_ROWS_RU = ("1234567890", "йцукенгшщзх", "фывапролджэ", "ячсмитьбю")
_PAD = ("789", "456", "123", "0")


def _neighbours(rows: tuple[str, ...]) -> dict[str, str]:
    near: dict[str, str] = {}
    for r, row in enumerate(rows):
        for c, ch in enumerate(row):
            around = row[max(0, c - 1) : c] + row[c + 1 : c + 2]
            for other in (r - 1, r + 1):
                if 0 <= other < len(rows) and c < len(rows[other]):
                    around += rows[other][c]
            near[ch] = around
    return near


NEAR = _neighbours(_ROWS_EN) | _neighbours(_ROWS_RU)
NEAR_DIGIT = _neighbours(_PAD)
LETTERS_EN, LETTERS_RU, DIGITS = (
    "abcdefghijklmnopqrstuvwxyz",
    "абвгдежзийклмнопрстуфхцчшщыьэюя",
    "0123456789",
)
TYPOS = ("insert", "delete", "substitute", "transpose")

# which fields a kind touches, and how often (weights)
TYPO_FIELDS = {
    "given_name": 2, "surname": 2, "patronymic": 1, "street": 1.5, "city": 0.5, "phone": 2.5,
    "card": 2.5, "email": 1, "house": 0.3, "postcode": 0.5, "birth_date": 1,
}  # fmt: skip
MISSING_FIELDS = {
    "email": 1.5, "phone": 1, "card": 1.5, "birth_date": 1, "patronymic": 1, "street": 0.5,
    "house": 0.5, "postcode": 0.7, "city": 0.5, "given_name": 0.3,
}  # fmt: skip
KINDS = {
    "typo": 0.38, "missing": 0.17, "swap_names": 0.05, "replace:phone": 0.035,
    "replace:email": 0.03, "replace:address": 0.02, "replace:card": 0.015, "street_form": 0.04,
    "translit": 0.10, "yo_e": 0.04, "diminutive": 0.08,
}  # fmt: skip
RUSSIAN_ONLY = {"translit", "yo_e", "diminutive", "patronymic"}
MODIFICATIONS = (1, 2, 3, 4)
MODIFICATION_WEIGHTS = (0.45, 0.30, 0.17, 0.08)

PHONE_FORMATS = (
    "+7 {a} {b}-{c}-{d}", "+7{a}{b}{c}{d}", "8{a}{b}{c}{d}", "8 ({a}) {b}-{c}-{d}",
    "8-{a}-{b}-{c}-{d}", "{a} {b} {c} {d}", "7 {a} {b}{c}{d}", "+7 ({a}) {b} {c} {d}",
)  # fmt: skip


def phone_text(digits: str, style: int) -> str:
    """Ten national digits written the ``style``-th way; other lengths (a typo) as digits."""
    if len(digits) != 10:
        return ("8" if style % 2 else "+7") + digits if digits else ""
    a, b, c, d = digits[:3], digits[3:6], digits[6:8], digits[8:]
    return PHONE_FORMATS[style].format(a=a, b=b, c=c, d=d)


def typo(text: str, kind: str, rnd: random.Random, digits: bool = False) -> str:
    """``text`` with one keystroke error of ``kind``; unchanged if it cannot take one."""
    if not text or (kind in ("delete", "transpose") and len(text) < 2):
        return text
    near = NEAR_DIGIT if digits else NEAR
    alphabet = DIGITS if digits else (LETTERS_RU if _cyrillic(text) else LETTERS_EN)

    def other(ch: str) -> str:
        low = ch.lower()
        pool = near.get(low, "") if rnd.random() < 0.7 else ""
        new = rnd.choice(pool or alphabet.replace(low, "") or alphabet)
        return new.upper() if ch.isupper() else new

    if kind == "transpose":
        spots = [i for i in range(len(text) - 1) if text[i] != text[i + 1]]
        if not spots:
            return text
        i = rnd.choice(spots)
        swapped = text[i + 1] + text[i]
        if i == 0 and text[0].isupper():  # Иванов -> Вианов, not вИанов
            swapped = swapped[0].upper() + swapped[1].lower()
        return text[:i] + swapped + text[i + 2 :]
    i = rnd.randrange(len(text))
    if kind == "delete":
        return text[:i] + text[i + 1 :]
    if kind == "insert":
        return text[:i] + other(text[i]).lower() + text[i:]
    return text[:i] + other(text[i]) + text[i + 1 :]


def _cyrillic(text: str) -> bool:
    return any("а" <= ch.lower() <= "я" or ch in "ёЁ" for ch in text)


def _date_typo(text: str, rnd: random.Random) -> tuple[str, str]:
    """A birth date typed wrong, still a date: day and month swapped, or one digit off."""
    year, month, day = (int(p) for p in text.split("-"))
    if day <= 12 and day != month and rnd.random() < 0.4:
        return date(year, day, month).isoformat(), "transpose"
    for _ in range(20):
        kind = rnd.choice(("substitute", "transpose"))
        digits = typo(f"{year:04d}{month:02d}{day:02d}", kind, rnd, digits=True)
        try:
            return date(int(digits[:4]), int(digits[4:6]), int(digits[6:])).isoformat(), kind
        except ValueError:
            continue
    return text, "substitute"


def _email_typo(text: str, kind: str, rnd: random.Random) -> str:
    local, _, domain = text.partition("@")
    return typo(local, kind, rnd) + "@" + domain


def street_form(street: str, russian: bool, rnd: random.Random) -> str:
    """The same street written another way: another or no word for its kind."""
    kinds = STREET_KINDS_RU if russian else STREET_KINDS_EN
    words = street.split()
    bare = [w for w in words if w not in kinds and w not in ("st", "rd", "ave")]
    if russian:
        return rnd.choice([" ".join(bare), "улица " + " ".join(bare), " ".join(bare) + " ул"])
    short = {"street": "st", "road": "rd", "avenue": "ave"}
    tail = words[-1] if words[-1] in kinds else ""
    return " ".join(bare + ([short.get(tail, tail)] if tail and rnd.random() < 0.5 else []))


def _flip_yo(text: str) -> str:
    if "ё" in text or "Ё" in text:
        return text.replace("ё", "е").replace("Ё", "Е")
    return text


class Fresh:
    """New values for a record that was changed: a new phone, e-mail, card or address."""

    def __init__(
        self,
        phone: Callable[[], str],
        email: Callable[[dict], str],
        card: Callable[[], str],
        address: Callable[[dict], dict],
    ) -> None:
        self.phone, self.email, self.card, self.address = phone, email, card, address


def corrupt(
    original: dict[str, str], rnd: random.Random, variant: str, fresh: Fresh
) -> tuple[dict[str, str], list[str]]:
    """A duplicate of ``original`` with 1–4 modifications, and a tag for each."""
    russian = variant == "russian"
    kinds = [k for k in KINDS if russian or k not in RUSSIAN_ONLY]
    weights = [KINDS[k] for k in kinds]
    record, tags = dict(original), []
    wanted = rnd.choices(MODIFICATIONS, MODIFICATION_WEIGHTS)[0]
    for _ in range(wanted * 6):  # a kind that does not apply is drawn again
        if len(tags) == wanted:
            break
        kind = rnd.choices(kinds, weights)[0]
        tag = _modify(record, kind, rnd, russian, fresh)
        if tag:
            tags.append(tag)
    return record, tags


def _pick(fields: dict[str, float], record: dict[str, str], russian: bool, rnd) -> str | None:  # noqa: ANN001
    names = [f for f in fields if record.get(f) and (russian or f not in RUSSIAN_ONLY)]
    return rnd.choices(names, [fields[f] for f in names])[0] if names else None


def _modify(record: dict[str, str], kind: str, rnd: random.Random, russian: bool, fresh: Fresh):  # noqa: ANN202
    """Applies one modification of ``kind`` in place; its tag, or None when it did not apply."""
    if kind == "typo":
        field = _pick(TYPO_FIELDS, record, russian, rnd)
        if field is None:
            return None
        how = rnd.choice(TYPOS)
        value = record[field]
        if field == "birth_date":
            changed, how = _date_typo(value, rnd)
        elif field == "email":
            changed = _email_typo(value, how, rnd)
        else:
            changed = typo(value, how, rnd, digits=field in ("phone", "card", "postcode"))
        if changed == value:
            return None
        record[field] = changed
        return f"typo.{how}:{field}"
    if kind == "missing":
        field = _pick(MISSING_FIELDS, record, russian, rnd)
        if field is None:
            return None
        record[field] = ""
        return f"missing:{field}"
    if kind == "swap_names":
        if not (record["given_name"] and record["surname"]):
            return None
        record["given_name"], record["surname"] = record["surname"], record["given_name"]
        return kind
    if kind.startswith("replace:"):
        what = kind.split(":")[1]
        if what == "phone":
            record["phone"] = fresh.phone()
        elif what == "email":
            record["email"] = fresh.email(record)
        elif what == "card":
            record["card"] = fresh.card()
        else:
            record.update(fresh.address(record))
        return kind
    if kind == "street_form":
        if not record["street"]:
            return None
        changed = street_form(record["street"], russian, rnd)
        if changed == record["street"] or not changed:
            return None
        record["street"] = changed
        return kind
    if kind == "translit":
        if _cyrillic(record["given_name"] + record["surname"]):
            system = rnd.randrange(3)
            for field in ("given_name", "surname", "patronymic"):
                record[field] = latin(record[field], system)
            return kind
        return None
    if kind == "yo_e":
        for field in ("given_name", "surname", "patronymic", "street"):
            if (changed := _flip_yo(record[field])) != record[field]:
                record[field] = changed
                return kind
        return None
    if kind == "diminutive":
        if short := DIMINUTIVES_RU.get(record["given_name"]):
            record["given_name"] = rnd.choice(short)
            return kind
        return None
    raise ValueError(f"unknown modification kind {kind!r}")
