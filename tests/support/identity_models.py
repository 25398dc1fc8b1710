"""Hand-set identity models and a sample person for the probabilistic tests.

``hand_model``: every field's m and u set by hand — matches mostly agree (0.8),
non-matches rarely (``common`` fields, shared by many people, at 0.02; the rest
at 0.001) — so a test's expectation follows from the weights, not from training.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from syncd.identity.comparisons import Person
from syncd.identity.fellegi_sunter import FieldModel, Model

ANNA = Person(
    given="анна",
    surname="иванова",
    birth_date="1987-04-12",
    phones=("+79123456789",),
    street="ленина",
    house="12",
    postcode="620014",
    city="екатеринбург",
)


def hand_model(levels: Mapping[str, int], common: Iterable[str], prior: float) -> Model:
    common = set(common)
    fields = {}
    for name, n in levels.items():
        agree = 0.02 if name in common else 0.001
        m = [0.8] + [0.15 / max(n - 2, 1)] * (n - 2) + [0.05]
        u = [agree] + [0.01 / max(n - 2, 1)] * (n - 2) + [0.99 - agree]
        fields[name] = FieldModel(tuple(m), tuple(u))
    return Model(fields, prior)


def with_(person: Person, **changes) -> Person:  # noqa: ANN003
    return Person(**{**person.__dict__, **changes})
