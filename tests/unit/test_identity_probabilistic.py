"""The probabilistic decision: the heaviest candidate above the threshold, unless vetoed."""

from __future__ import annotations

from syncd.identity.comparisons import LEVELS, Person
from syncd.identity.fellegi_sunter import Model
from syncd.identity.probabilistic import NAME_LEVELS, choose
from tests.support.identity_models import ANNA, hand_model


def model() -> Model:
    return hand_model({**LEVELS, **NAME_LEVELS}, common=NAME_LEVELS, prior=1e-3)


def test_a_record_with_a_mistyped_phone_joins_its_person_with_each_fields_weight():
    typo = Person(**{**ANNA.__dict__, "phones": ("+79123456798",), "street": ""})
    choice = choose(typo, {7: ANNA}, model(), threshold=0.99)
    assert choice.identity == 7 and choice.probability > 0.999
    assert choice.fields["phone"][0] == 1 and choice.fields["street"] == (None, 0.0)
    assert any("given level 0" in r for r in choice.reasons())


def test_a_shared_phone_with_everything_else_different_is_vetoed():
    husband = Person(
        given="сергей",
        surname="иванов",
        birth_date="1983-09-30",
        phones=ANNA.phones,
        street="мира",
        house="3",
        city="екатеринбург",
    )
    choice = choose(husband, {7: ANNA}, model(), threshold=0.5)
    assert choice.identity is None
    assert "given name and birth date both differ" in choice.vetoed[7]
    shared = Person(given="сергей", phones=ANNA.phones, street="мира", birth_date="")
    assert "only the phone is shared" in choose(shared, {7: ANNA}, model(), 0.5).vetoed[7]


def test_the_heaviest_candidate_wins_and_a_weak_one_is_a_new_person():
    close = Person(given="анна", surname="иванова", birth_date="1987-04-12", city="екатеринбург")
    namesake = Person(given="анна", surname="иванова", city="москва")
    choice = choose(ANNA, {3: namesake, 7: close}, model(), threshold=0.99)
    assert choice.identity == 7
    alone = choose(Person(given="анна", surname="иванова"), {3: namesake}, model(), 0.99)
    assert alone.identity is None  # a name alone is not enough
