"""The in-memory probabilistic linker: typos join, relatives do not, a bridge merges."""

from __future__ import annotations

from syncd.identity.comparisons import Person
from syncd.identity.fellegi_sunter import FieldModel, Model
from syncd.identity.linker import ALL_LEVELS, Linker
from syncd.identity.training import train
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


def with_difference_share(share: float) -> Model:
    """The hand model, with one person's records differing outright on the given name
    and the birth date in ``share`` of pairs (as EM would estimate it from the data)."""
    base = model()
    fields = dict(base.fields)
    for name in ("given", "birth_date"):
        fm = fields[name]
        m = [x * (1 - share) / (1 - fm.m[-1]) for x in fm.m[:-1]] + [share]
        fields[name] = FieldModel(tuple(m), fm.u)
    return Model(fields, base.prior)


LINDSAY = with_(ANNA, given="lindsay", surname="dunerwell", cards=("2733692869172",))


def test_names_alone_are_never_enough():
    linker = Linker(model(), threshold=0.99)
    first, _ = linker.add(with_(ANNA, patronymic="сергеевна"))
    other, weight = linker.add(Person(given="анна", surname="иванова", patronymic="сергеевна"))
    assert other != first and weight == 0.0  # the three names alone weigh 9 bits: p 0.998


def test_where_records_seldom_differ_a_far_given_name_with_no_card_in_common_is_two_people():
    family = with_(LINDSAY, given="bartholomew", cards=("2733410393923",))  # same phone, home
    strict = Linker(with_difference_share(0.02), threshold=0.99)
    assert strict.add(family)[0] != strict.add(LINDSAY)[0]
    lenient = Linker(with_difference_share(0.3), threshold=0.99)  # FEBRL-like: names replaced
    assert lenient.add(family)[0] == lenient.add(LINDSAY)[0]
    typo = with_(LINDSAY, given="lindsey", cards=("2733692896172",))  # card two keys off
    strict = Linker(with_difference_share(0.02), threshold=0.99)
    assert strict.add(typo)[0] == strict.add(LINDSAY)[0]


def test_where_records_seldom_differ_another_birth_date_is_another_person_unless_a_card_says():
    child = with_(LINDSAY, birth_date="2009-05-30", cards=())
    strict = Linker(with_difference_share(0.02), threshold=0.99)
    assert strict.add(child)[0] != strict.add(LINDSAY)[0]
    same_card = with_(LINDSAY, birth_date="2009-05-30")
    strict = Linker(with_difference_share(0.02), threshold=0.99)
    assert strict.add(same_card)[0] == strict.add(LINDSAY)[0]


def test_the_same_street_and_house_in_two_towns_are_two_homes():
    from syncd.identity.linker import Prepared, levels_of

    home = Person(street="пр-т ленина", house="2", postcode="630532", city="новосибирск")
    same = levels_of(Prepared.of(home), Prepared.of(home))
    assert same["address"] == 0
    tula = Person(street="пр-т ленина", house="2", postcode="300213", city="тула")
    assert levels_of(Prepared.of(home), Prepared.of(tula))["address"] == 3
    typo = Person(street="пр-т ленина", house="2", postcode="630532", city="новосиб")
    assert levels_of(Prepared.of(home), Prepared.of(typo))["address"] == 0  # same postcode
    no_town = Person(street="пр-т ленина", house="2")
    assert levels_of(Prepared.of(home), Prepared.of(no_town))["address"] == 0


def test_every_identifier_different_with_no_birth_date_in_common_is_another_person():
    # a relative at the same address, a given name of the same root (Мария / Маша):
    # surname, home and name outweigh a phone and a card that disagree, but a person
    # whose every identifier changed at once, with no birth date to say it is them, is
    # somebody else
    linker = Linker(model(), threshold=0.9)
    anna = with_(ANNA, given="мария", cards=("7700000001",), birth_date="")
    first, _ = linker.add(anna)
    other = with_(anna, given="маша", phones=("+79007654321",), cards=("7700555000",))
    assert linker.add(other)[0] != first
    # one identifier left as it was: the same person with a new card
    same = Linker(model(), threshold=0.9)
    kept = same.add(anna)[0]
    assert same.add(with_(anna, given="маша", cards=("7700555000",)))[0] == kept
    # the same birth date says it is them, whatever the numbers
    born = Linker(model(), threshold=0.9)
    dated = born.add(with_(anna, birth_date="1987-04-12"))[0]
    assert born.add(with_(other, birth_date="1987-04-12"))[0] == dated


def test_namesakes_and_neighbours_with_nothing_of_their_own_in_common_are_two_people():
    # the same name and birth date in another town, no card, phone or e-mail shared:
    # among a million people, namesakes born the same day
    linker = Linker(model(), threshold=0.9)
    anna = with_(ANNA, phones=())
    first, _ = linker.add(anna)
    elsewhere = with_(anna, street="мира", house="3", postcode="101000", city="москва")
    assert linker.add(elsewhere)[0] != first
    # her phone on it: the same person, moved
    moved = Linker(model(), threshold=0.9)
    assert moved.add(with_(elsewhere, phones=ANNA.phones))[0] == moved.add(ANNA)[0]
    # a neighbour of the same first name and another surname, no birth date in common
    block = Linker(model(), threshold=0.9)
    kept = block.add(with_(anna, patronymic="сергеевна", birth_date=""))[0]
    neighbour = with_(anna, surname="петрова", patronymic="сергеевна", birth_date="")
    assert block.add(neighbour)[0] != kept
    # born the same day, another surname, the same town only, no number on both to compare
    town = Linker(model(), threshold=0.9)
    same_day = town.add(with_(anna, street="", house="", postcode=""))[0]
    other = with_(anna, surname="петрова", street="", house="", postcode="")
    assert town.add(other)[0] != same_day
