"""The in-memory probabilistic linker: typos join, relatives do not, a bridge merges."""

from __future__ import annotations

from syncd.identity.comparisons import Person
from syncd.identity.fellegi_sunter import Model
from syncd.identity.linker import ALL_LEVELS, Linker, train
from tests.support.identity_models import ANNA, hand_model, with_


def model() -> Model:
    return hand_model(
        ALL_LEVELS, common=("given", "surname", "patronymic", "city", "house"), prior=0.01
    )


def test_a_duplicate_with_typos_and_a_transliterated_name_joins_its_person():
    linker = Linker(model(), threshold=0.999)
    first, _ = linker.add(ANNA)
    again, weight = linker.add(
        with_(ANNA, given="Anna", surname="Ivanova", phones=("+79123456798",), street="")
    )
    assert again == first and weight > 10


def test_a_relative_at_the_same_address_and_phone_is_another_person():
    linker = Linker(model(), threshold=0.999)
    anna, _ = linker.add(ANNA)
    husband, _ = linker.add(with_(ANNA, given="Сергей", surname="Иванов", birth_date="1983-09-30"))
    assert husband != anna


def test_a_record_that_is_two_known_people_merges_them():
    linker = Linker(model(), threshold=0.999)
    by_phone, _ = linker.add(Person(given="Анна", surname="Иванова", phones=ANNA.phones,
                                    birth_date=ANNA.birth_date))  # fmt: skip
    by_address, _ = linker.add(Person(given="Анна", surname="Иванова", street="ленина",
                                      house="12", birth_date=ANNA.birth_date))  # fmt: skip
    both, _ = linker.add(ANNA)
    assert linker.final(by_phone) == linker.final(by_address) == both


def test_training_needs_no_labels_and_gives_usable_weights():
    people = [ANNA, with_(ANNA, phones=("+79123456798",)), with_(ANNA, given="Ann")]
    for i in range(300):
        born, phone = f"19{50 + i % 40}-01-0{1 + i % 9}", f"+7912{i:07d}"
        people.append(Person(given=f"Имя{i}", surname=f"Ф{i}", birth_date=born, phones=(phone,)))
    trained = train(people, random_pairs=2000)
    assert trained.fields["phone"].weight(0) > 0 > trained.fields["phone"].weight(2)


def test_a_twin_with_another_known_first_name_is_another_person():
    linker = Linker(model(), threshold=0.999)
    anna, _ = linker.add(ANNA)
    twin, _ = linker.add(with_(ANNA, given="Мария"))  # same birth date, address, phone
    assert twin != anna
    same_card = Person(**{**ANNA.__dict__, "given": "Мария", "cards": ("4276380012345678",)})
    linker_cards = Linker(model(), threshold=0.999)
    first, _ = linker_cards.add(with_(ANNA, cards=("4276380012345678",)))
    assert linker_cards.add(same_card)[0] == first  # a card is one person's: a wrong name
