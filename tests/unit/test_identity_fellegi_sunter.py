"""Fellegi–Sunter: weights from m and u, learnt by EM with no labels."""

from __future__ import annotations

import math
import random

import pytest

from syncd.identity.fellegi_sunter import FieldModel, Model, estimate, tf_weight

TRUE_M = {"surname": (0.85, 0.1, 0.05), "birth_date": (0.9, 0.07, 0.03), "phone": (0.7, 0.3)}
TRUE_U = {
    "surname": (0.01, 0.04, 0.95),
    "birth_date": (0.002, 0.02, 0.978),
    "phone": (0.001, 0.999),
}


def draw(rnd: random.Random, probabilities) -> int:  # noqa: ANN001
    return rnd.choices(range(len(probabilities)), weights=probabilities)[0]


def pairs(n: int, share: float, seed: int = 7, missing: float = 0.1):  # noqa: ANN201
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        match = rnd.random() < share
        table = TRUE_M if match else TRUE_U
        out.append(
            {f: (None if rnd.random() < missing else draw(rnd, p)) for f, p in table.items()}
        )
    return out


def test_em_recovers_m_and_the_share_of_matches_without_labels():
    vectors = pairs(20000, share=0.05)
    randoms = pairs(20000, share=0.0, seed=8)
    start = Model.initial({f: len(p) for f, p in TRUE_M.items()})
    fitted = estimate(start, vectors, randoms)
    assert fitted.converged
    assert fitted.model.prior == pytest.approx(0.05, abs=0.01)
    for name, m in TRUE_M.items():
        assert fitted.model.fields[name].m == pytest.approx(m, abs=0.03), name


def test_agreement_weighs_for_a_match_difference_against_missing_not_at_all():
    model = Model({n: FieldModel(TRUE_M[n], TRUE_U[n]) for n in TRUE_M}, prior=0.05)
    assert model.fields["phone"].weight(0) > 9  # an exact phone: strong evidence
    assert model.fields["surname"].weight(2) < 0
    assert model.fields["surname"].weight(None) == 0
    same = model.weight({"surname": 0, "birth_date": 0, "phone": 0})
    unknown = model.weight({"surname": 0, "birth_date": 0, "phone": None})
    apart = model.weight({"surname": 2, "birth_date": 2, "phone": 1})
    assert same > unknown > 0 > apart
    assert model.probability(same) > 0.999 and model.probability(apart) < 0.001
    assert model.probability(0.0) == 0.5


def test_a_common_value_agreeing_says_less_than_a_rare_one():
    common, rare = tf_weight(0.9, 0.02), tf_weight(0.9, 0.00001)
    assert rare > common > 0
    assert tf_weight(0.9, 0.9) == pytest.approx(0.0, abs=1e-9)
    assert math.isfinite(tf_weight(0.9, 0.0))


def test_a_field_needs_two_levels():
    with pytest.raises(ValueError, match="at least 2 levels"):
        Model.initial({"phone": 1})
