"""A record as the model compares it: names split, dates read, kept short in the store."""

from __future__ import annotations

import pytest

from syncd.identity.keys import Record
from syncd.identity.people import (
    birth_date,
    calendar_date,
    from_json,
    has_identity,
    person_of,
    split_name,
    to_json,
)


@pytest.mark.parametrize(
    "raw, date",
    [
        ("1985-03-07", "1985-03-07"),
        ("1985-03-07T00:00:00", "1985-03-07"),  # 1C
        ("19850307", "1985-03-07"),  # FEBRL
        ("7.3.1985", "1985-03-07"),
        ("0001-01-01T00:00:00", ""),  # 1C's empty date
        ("31.13.1985", "1985-13-31"),  # no such day, but a date's typo: compared as one
        ("31.02.85", ""),  # a two-digit year
        ("не помню", ""),
        ("", ""),
    ],
)
def test_birth_dates_are_read_in_the_forms_sources_write(raw, date):
    assert birth_date(raw) == date


@pytest.mark.parametrize(
    "full, parts",
    [
        ("Иванова Анна Сергеевна", ("анна", "иванова", "сергеевна")),
        ("Петров Иван", ("иван", "петров", "")),
        ("Ким Ён Хо", ("ен хо", "ким", "")),  # ё as е
        ("Анна", ("анна", "", "")),
        ("", ("", "", "")),
    ],
)
def test_a_full_name_is_split_as_1c_writes_it(full, parts):
    assert split_name(full) == parts


def test_a_person_survives_the_store_and_names_apart_win_over_the_full_name():
    person = person_of(
        Record("crm", "1", "Ignored Full", phones=["8 912 345-67-89"], cards=["4276-3800"],
               given="Анна", surname="Иванова", postcode="620 014", birth_date="07.03.1985")
    )  # fmt: skip
    assert (person.given, person.surname, person.postcode) == ("анна", "иванова", "620014")
    assert person.phones == ("+79123456789",) and person.cards == ("42763800",)
    assert from_json(to_json(person)) == person


def test_a_name_alone_identifies_nobody_a_name_with_a_birth_date_does():
    assert not has_identity(person_of(Record("pos", "1", "Анна Иванова")))
    assert has_identity(person_of(Record("pos", "1", "Анна Иванова", birth_date="1985-03-07")))
    assert has_identity(person_of(Record("pos", "1", cards=["00123456"])))


def test_only_a_real_day_is_a_calendar_date():
    assert calendar_date("07.03.1985") == "1985-03-07"
    assert calendar_date("1945-04-93") == "" and birth_date("1945-04-93") == "1945-04-93"
    assert calendar_date("") == ""
