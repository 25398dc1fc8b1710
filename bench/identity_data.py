#!/usr/bin/env python3
"""A synthetic population for identity resolution, with its truth, and the pairwise scorer.

Each person has an original record and 0–3 duplicates (FEBRL-like: 40% none,
then 1, 2, 3 in Zipf proportions), each duplicate with 1–4 modifications
(bench/identity_noise.py: typos in names, streets, phones and cards, missing
fields, swapped names, replaced values, phone spellings; in the ``russian``
variant also transliteration, ё/е and diminutives).  Names, streets and towns
are drawn Zipf-like (bench/identity_vocab.py), so a few are very common.  A
small share of people are *hard negatives*: a relative of someone already
made — a spouse or child at the same address (in Russian the surname's other
gender: Иванов's wife is Иванова, another person), sometimes sharing the
family's phone; a twin (same surname, birth date and address, another given
name); a namesake in the same town.

Rows are made and written one at a time (a bounded window shuffles them, so a
person's duplicates are not neighbours): 1M records take a few tens of MB.
The same seed gives the same file.  The columns are those ``syncd customers
import`` takes, then the truth (``person_id``) and, to study misses, what was
done to the row (``noise``) and who the person is a relative of (``relation``).

    .venv/bin/python bench/identity_data.py generate --records 100000 --variant russian \
        --seed 7 --out /tmp/pop.csv
    .venv/bin/python bench/identity_data.py score --truth /tmp/pop.csv --map /tmp/map.csv
    .venv/bin/python bench/identity_data.py febrl febrl3 --out /tmp/febrl3.csv
    .venv/bin/python bench/identity_data.py syncd --truth /tmp/pop.csv [--store URL]

``syncd`` resolves a file with syncd's own resolver (``resolve_with_syncd``)
and scores it; ``score`` reads a map written by ``syncd customers import --out``.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.identity_noise import PHONE_FORMATS, Fresh, corrupt, phone_text  # noqa: E402
from bench.identity_score import (  # noqa: E402
    PairScore,
    febrl_rows,
    read_map,
    read_truth,
    resolve_with_syncd,
    score,
)
from bench.identity_vocab import (  # noqa: E402
    CITIES_EN,
    CITIES_RU,
    FEMALE_EN,
    FEMALE_NAMES_RU,
    MAIL_EN,
    MAIL_RU,
    MALE_EN,
    MALE_NAMES_RU,
    STREET_KINDS_EN,
    STREET_KINDS_RU,
    STREETS_EN,
    STREETS_RU,
    SURNAMES_EN,
    SURNAMES_RU,
    Ranked,
    _words,
    feminine,
    latin,
    patronymic,
)

__all__ = [
    "COLUMNS",
    "DUPLICATE_WEIGHTS",
    "OUTPUT_COLUMNS",
    "PairScore",
    "febrl_rows",
    "population",
    "read_map",
    "read_truth",
    "resolve_with_syncd",
    "score",
    "write_csv",
]

COLUMNS = (
    "id", "given_name", "surname", "patronymic", "birth_date", "phone", "email", "card",
    "street", "house", "postcode", "city",
)  # fmt: skip
OUTPUT_COLUMNS = (*COLUMNS, "person_id", "noise", "relation")
VARIANTS = ("latin", "russian")
DUPLICATE_WEIGHTS = (0.40, 0.6 * 6 / 11, 0.6 * 3 / 11, 0.6 * 2 / 11)  # 0, 1, 2, 3 duplicates
RELATIONS = {"spouse": 0.35, "child": 0.25, "twin": 0.15, "namesake": 0.25}
# how often an original record lacks a field (people do not give everything)
ORIGINAL_GAPS = {"email": 0.35, "card": 0.25, "phone": 0.05, "patronymic": 0.25, "birth_date": 0.08}
ADDRESS_GAP = 0.05
PHONE_CODES = tuple(
    _words(
        "900 901 902 903 904 905 906 908 909 910 911 912 913 914 915 916 917 918 919 920 "
        "921 922 923 924 925 926 927 928 929 930 931 950 951 952 953 960 961 962 977 999"
    )
)
PHONE_SPACE = len(PHONE_CODES) * 10**7
EPOCH, ADULT_DAYS = date(1940, 1, 1), (date(2006, 12, 31) - date(1940, 1, 1)).days


# a multiplier per kind of number, prime to 10: a person's phone, card and e-mail number
# share no digits by construction
PHONE, CARD, EMAIL = 387_420_489, 282_475_249, 815_730_721  # 3**18, 7**10, 13**8


def _scatter(i: int, space: int, multiplier: int) -> int:
    """A bijection of 0..space-1 (space's prime factors are 2 and 5): unique, not in order."""
    return (i * multiplier + 123_456_789) % space


@dataclass
class Person:
    person_id: str
    female: bool
    family: str  # the surname's male form (a relative's surname is made from it)
    father: str  # the given name the patronymic comes from ("" in the latin variant)
    record: dict[str, str]  # the original record; the phone as its ten national digits
    relation: str = ""
    duplicates: int = 0
    kin: list[Person] = field(default_factory=list)


class _Maker:
    """Makes people one at a time; every value unique where a real one is (phones, cards)."""

    def __init__(self, variant: str, rnd: random.Random, hard_share: float) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, not {variant!r}")
        self.russian, self.rnd, self.hard_share = variant == "russian", rnd, hard_share
        self.count = self.replaced = 0
        self.towns = Ranked.of([t for t, _ in (CITIES_RU if self.russian else CITIES_EN)], 1.1)
        self.postcodes = dict(CITIES_RU if self.russian else CITIES_EN)
        self.fresh = Fresh(self._new_phone, self._new_email, self._new_card, self._new_address)

    # -- values ----------------------------------------------------------------------------
    def _phone(self, i: int) -> str:
        n = _scatter(i, PHONE_SPACE, PHONE)
        return PHONE_CODES[n // 10**7] + f"{n % 10**7:07d}"

    def _card(self, i: int) -> str:
        if self.rnd.random() < 0.6:  # an EAN-13 store card, else a 16-digit loyalty card
            return f"27{_scatter(i, 10**11, CARD):011d}"
        return f"6390{_scatter(i, 10**12, CARD):012d}"

    def _email(self, given: str, surname: str, i: int) -> str:
        g, s = (
            (latin(given, 1).lower(), latin(surname, 1).lower())
            if self.russian
            else (given, surname)
        )
        local = self.rnd.choice((s, f"{g}.{s}", f"{g[:1]}{s}", f"{g}_{s}", g))
        domain = (MAIL_RU if self.russian else MAIL_EN).draw(self.rnd)
        return f"{local}{_scatter(i, 10**7, EMAIL)}@{domain}"  # the number makes it one person's

    def _address(self, town: str | None = None) -> dict[str, str]:
        rnd = self.rnd
        if town not in self.postcodes:  # none given, or a town typed wrong: another one
            town = self.towns.draw(rnd)
        if self.russian:
            kind = rnd.choices(STREET_KINDS_RU, (60, 5, 12, 3, 12, 5, 3))[0]
            street = f"{kind} {STREETS_RU.draw(rnd)}"
            house = str(min(250, int(rnd.paretovariate(1.1) * 3) - 2))
            house += rnd.choices(("", "А", " к2", " к3"), (85, 5, 7, 3))[0]
            prefix = self.postcodes[town]
            tail = zlib.crc32(f"{town}/{street}".encode()) % 10 ** (6 - len(prefix))
            postcode = prefix + f"{tail:0{6 - len(prefix)}d}"
        else:
            kind = rnd.choices(STREET_KINDS_EN, (40, 20, 10, 10, 8, 5, 4, 3))[0]
            street = f"{STREETS_EN.draw(rnd)} {kind}"
            house = str(min(250, int(rnd.paretovariate(1.1) * 3) - 2))
            base = int(self.postcodes[town])
            postcode = f"{base + zlib.crc32(f'{town}/{street}'.encode()) % 40:04d}"
        return {"street": street, "house": house, "postcode": postcode, "city": town}

    def _birth(self) -> str:
        return (EPOCH + timedelta(days=self.rnd.randrange(ADULT_DAYS))).isoformat()

    # fresh values for a duplicate: numbers from the top of each space, never a person's own
    def _new_phone(self) -> str:
        self.replaced += 1
        return self._phone(PHONE_SPACE - self.replaced)

    def _new_card(self) -> str:
        self.replaced += 1
        return self._card(10**11 - self.replaced)

    def _new_email(self, record: dict[str, str]) -> str:
        self.replaced += 1
        return self._email(record["given_name"] or "x", record["surname"] or "y", -self.replaced)

    def _new_address(self, record: dict[str, str]) -> dict[str, str]:
        return self._address(record["city"] if self.rnd.random() < 0.7 and record["city"] else None)

    # -- people ----------------------------------------------------------------------------
    def _given(self, female: bool, other_than: str = "") -> str:
        if self.russian:
            names = FEMALE_NAMES_RU if female else MALE_NAMES_RU
        else:
            names = FEMALE_EN if female else MALE_EN
        for _ in range(50):
            if (given := names.draw(self.rnd)) != other_than:
                return given
        return names.values[-1]

    def person(
        self,
        female: bool | None = None,
        family: str | None = None,
        father: str | None = None,
        birth: str | None = None,
        address: dict[str, str] | None = None,
        given: str | None = None,
        phone: str | None = None,
        relation: str = "",
    ) -> Person:
        rnd, i = self.rnd, self.count
        self.count += 1
        female = rnd.random() < 0.52 if female is None else female
        family = family or (SURNAMES_RU if self.russian else SURNAMES_EN).draw(rnd)
        surname = feminine(family) if self.russian and female else family
        father = (father or MALE_NAMES_RU.draw(rnd)) if self.russian else ""
        given = given or self._given(female)
        record = {
            "given_name": given,
            "surname": surname,
            "patronymic": patronymic(father, female) if father else "",
            "birth_date": birth or self._birth(),
            "phone": phone or self._phone(i),
            "email": self._email(given, surname, i),
            "card": self._card(i),
            **(address or self._address()),
        }
        for name, share in ORIGINAL_GAPS.items():
            if rnd.random() < share and not (name == "birth_date" and birth):
                record[name] = ""  # what a relative shares is kept: that is what makes it hard
        if rnd.random() < ADDRESS_GAP and not address:
            record.update(street="", house="", postcode="")
        duplicates = rnd.choices(range(4), DUPLICATE_WEIGHTS)[0]
        return Person(f"p{i}", female, family, father, record, relation, duplicates)

    def relative(self, of: Person) -> Person:
        """A different person close to ``of``: the hard negatives of a matcher."""
        rnd, base = self.rnd, of.record
        kind = rnd.choices(list(RELATIONS), list(RELATIONS.values()))[0]
        home = {k: base[k] for k in ("street", "house", "postcode", "city")}
        label = f"{kind} of {of.person_id}"
        if kind == "spouse":
            birth = date.fromisoformat(base["birth_date"] or "1970-01-01")
            birth += timedelta(days=rnd.randint(-6 * 365, 6 * 365))
            shared = base["phone"] if rnd.random() < 0.5 else None
            return self.person(
                not of.female, of.family, None, birth.isoformat(), home, None, shared, label
            )
        if kind == "child":
            born = date.fromisoformat(base["birth_date"] or "1970-01-01")
            born = min(born + timedelta(days=rnd.randint(20 * 365, 38 * 365)), date(2010, 12, 31))
            father = base["given_name"] if self.russian and not of.female else None
            shared = base["phone"] if rnd.random() < 0.3 else None
            return self.person(None, of.family, father, born.isoformat(), home, None, shared, label)
        if kind == "twin":
            female = rnd.random() < 0.5
            given = self._given(female, other_than=base["given_name"])
            birth = base["birth_date"] or self._birth()
            return self.person(
                female, of.family, of.father or None, birth, home, given, None, label
            )
        same_name = base["given_name"] if rnd.random() < 0.5 else None  # a namesake in town
        town = self._address(base["city"] or None)
        return self.person(of.female, of.family, None, None, town, same_name, None, label)

    def rows(self, person: Person) -> Iterator[dict[str, str]]:
        """The person's original record, then its duplicates, each with its noise."""
        original = person.record
        style = self.rnd.randrange(len(PHONE_FORMATS))
        yield self._row(original, person, style, [])
        for _ in range(person.duplicates):
            record, tags = corrupt(
                original, self.rnd, "russian" if self.russian else "latin", self.fresh
            )
            dup_style = self.rnd.randrange(len(PHONE_FORMATS))
            if dup_style != style and record["phone"]:
                tags.append("phone_format")
            yield self._row(record, person, dup_style, tags)

    @staticmethod
    def _row(record: dict[str, str], person: Person, style: int, tags: list[str]) -> dict[str, str]:
        row = dict(record, phone=phone_text(record["phone"], style))
        row.update(person_id=person.person_id, noise=";".join(tags), relation=person.relation)
        return row


def population(
    records: int,
    variant: str = "latin",
    seed: int = 0,
    *,
    hard_share: float = 0.05,
    window: int = 10_000,
) -> Iterator[dict[str, str]]:
    """``records`` rows (``OUTPUT_COLUMNS``), the same for the same arguments, made as read.

    A row's ``id`` is its position (``r1``, ``r2`` …); the rows pass through a
    shuffling window of ``window`` rows, so memory does not grow with ``records``.
    """
    rnd = random.Random(seed)
    maker = _Maker(variant, rnd, hard_share)
    held: list[dict[str, str]] = []
    made = written = 0

    def people() -> Iterator[Person]:
        while True:
            one = maker.person()
            yield one
            if rnd.random() < hard_share:
                yield maker.relative(one)

    for person in people():
        for row in maker.rows(person):
            if made == records:
                break
            made += 1
            held.append(row)
            if len(held) >= window:
                j = rnd.randrange(len(held))
                held[j], held[-1] = held[-1], held[j]
                written += 1
                yield {"id": f"r{written}", **held.pop()}
        if made == records:
            break
    rnd.shuffle(held)
    for row in held:
        written += 1
        yield {"id": f"r{written}", **row}


def write_csv(rows: Iterable[dict[str, str]], out: Path | str, columns=OUTPUT_COLUMNS) -> int:  # noqa: ANN001
    """Writes rows as UTF-8 CSV with a header, one at a time; how many were written."""
    n = 0
    with open(out, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("generate", help="write a synthetic population with its truth")
    make.add_argument("--records", type=int, default=100_000)
    make.add_argument("--variant", choices=VARIANTS, default="latin")
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--hard-share", type=float, default=0.05, help="people with a relative")
    make.add_argument("--out", required=True, type=Path)
    rate = commands.add_parser("score", help="pairwise precision/recall of a customer map")
    rate.add_argument("--truth", required=True, type=Path, help="a CSV with id and person_id")
    rate.add_argument("--map", required=True, type=Path, help="record_id,customer_id")
    febrl = commands.add_parser("febrl", help="write a FEBRL data set in these columns")
    febrl.add_argument("name", choices=("febrl1", "febrl2", "febrl3", "febrl4"))
    febrl.add_argument("--out", required=True, type=Path)
    run = commands.add_parser("syncd", help="resolve a file with syncd's resolver and score it")
    run.add_argument("--truth", required=True, type=Path)
    run.add_argument("--store", help="a store URL (default: SQLite in a temporary folder)")
    run.add_argument("--map", type=Path, help="also write the record_id,customer_id map here")
    args = parser.parse_args(argv)
    if args.command == "generate":
        rows = population(args.records, args.variant, args.seed, hard_share=args.hard_share)
        n = write_csv(rows, args.out)
        print(f"{n:,} records ({args.variant}, seed {args.seed}) written to {args.out}")
    elif args.command == "score":
        print(score(read_truth(args.truth), read_map(args.map)).report())
    elif args.command == "febrl":
        n = write_csv(febrl_rows(args.name), args.out, (*COLUMNS, "person_id"))
        print(f"{n:,} {args.name} records written to {args.out}")
    else:
        from bench.identity_score import resolve_file

        print(resolve_file(args.truth, args.store, args.map))
    return 0


if __name__ == "__main__":
    sys.exit(main())
