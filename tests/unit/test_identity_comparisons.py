"""Field comparisons: each level from real kinds of noise; missing is neither."""

from __future__ import annotations

from syncd.identity.comparisons import Person, compare

BASE = Person(
    birth_date="1987-04-12",
    phones=("+79123456789",),
    emails=("anna.ivanova@example.ru",),
    cards=("4276380012345678",),
    street="ленина",
    house="12",
    postcode="620014",
    city="екатеринбург",
)


def levels(**changes) -> dict:  # noqa: ANN003
    return compare(BASE, Person(**{**BASE.__dict__, **changes}))


def test_the_same_record_agrees_exactly_everywhere():
    assert set(compare(BASE, BASE).values()) == {0}


def test_typos_are_close_and_other_values_are_different():
    assert levels(phones=("+79123456798",))["phone"] == 1  # two digits swapped
    assert levels(cards=("427638001234567",))["card"] == 1  # a digit dropped
    assert levels(cards=("5536913712345678",))["card"] == 2
    assert levels(emails=("anna.ivanova@mail.ru",))["email"] == 1  # the same mailbox name
    assert levels(emails=("anna.ivanova@exampel.ru",))["email"] == 1  # one edit
    assert levels(emails=("petrov@example.ru",))["email"] == 2
    assert levels(birth_date="1987-12-04")["birth_date"] == 1  # day and month swapped
    assert levels(birth_date="1978-04-12")["birth_date"] == 1  # one digit off
    assert levels(birth_date="1990-01-30")["birth_date"] == 2
    assert levels(postcode="620041")["postcode"] == 1 and levels(postcode="62001")["postcode"] == 1
    assert levels(postcode="101000")["postcode"] == 2
    assert levels(street="ленинa")["street"] in (1, 2) and levels(street="ленинаа")["street"] == 1
    assert levels(street="мира")["street"] == 2
    assert levels(house="14")["house"] == 1
    assert levels(city="екатеринбур")["city"] == 1


def test_a_field_either_side_lacks_is_missing():
    found = compare(BASE, Person(surname="иванова"))
    assert set(found.values()) == {None}
    assert levels(phones=())["phone"] is None and levels(birth_date="")["birth_date"] is None


def test_any_shared_number_agrees():
    both = Person(phones=("+79000000000", "+79123456789"))
    assert compare(BASE, both)["phone"] == 0


def test_mailboxes_told_apart_by_a_number_are_two_a_letter_typo_is_close():
    def level(a: str, b: str) -> int | None:
        return compare(Person(emails=(a,)), Person(emails=(b,)))["email"]

    assert level("client107@example.ru", "client10@example.ru") == 2
    assert level("anna1@mail.ru", "anna2@mail.ru") == 2
    assert level("anna@mail.ru", "ana@mail.ru") == 1
    assert level("anna.k@mail.ru", "anna.k@yandex.ru") == 1
