"""Fellegi–Sunter: how much each field's agreement says that two records are one person.

A candidate pair is compared field by field; each comparison gives a *level*
(0 the strongest agreement, e.g. exact; then close, …; the last: different),
or ``None`` when either record lacks the field.  For every field and level the
model keeps ``m`` — how often a true match shows that level — and ``u`` — how
often two different people do.  A level's weight is ``log2(m / u)``; a pair's
weight is the sum over its fields (a missing field adds 0), plus the prior's
``log2(λ / (1 − λ))``; its match probability follows from it.

The parameters are learnt from the store's own candidate pairs, with no
labels: ``estimate`` runs expectation–maximisation on the pairs' level
vectors (fields assumed independent given match status), after ``u`` is
seeded from random pairs (almost all different people).  Term frequencies
correct the weight of an exact agreement on a common value: two records that
agree on "Иванов" say less than two that agree on "Шувалов"
(``tf_weight``).

    model = Model.initial({"surname": 3, "birth_date": 4, "phone": 3})
    model = estimate(model, vectors, random_vectors)
    model.weight({"surname": 0, "birth_date": 0, "phone": None})   # bits
    model.probability(weight)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

Vector = Mapping[str, int | None]  # field -> level (None: missing on either side)
FLOOR = 1e-6  # no probability reaches 0 or 1: a weight stays finite


@dataclass(frozen=True)
class FieldModel:
    """One field's m and u, a value per level (0: the strongest agreement)."""

    m: tuple[float, ...]
    u: tuple[float, ...]

    @cached_property
    def level_weights(self) -> tuple[float, ...]:
        """Each level's weight in bits.  A weaker agreement never weighs more than a
        stronger one: where the estimate says so (a close spelling of a rare name,
        seldom seen among random pairs), the stronger level's weight caps it."""
        capped, ceiling = [], math.inf
        for m, u in zip(self.m, self.u, strict=True):
            ceiling = min(ceiling, math.log2(m / u))
            capped.append(ceiling)
        return tuple(capped)

    def weight(self, level: int | None) -> float:
        if level is None:
            return 0.0
        return self.level_weights[level]


@dataclass(frozen=True)
class Model:
    fields: dict[str, FieldModel]
    prior: float = 1e-4  # λ: the share of candidate pairs that are matches

    @classmethod
    def initial(cls, levels: Mapping[str, int], prior: float = 1e-4) -> Model:
        """A starting point for ``estimate``: matches mostly agree, non-matches mostly not."""
        fields = {}
        for name, n in levels.items():
            if n < 2:
                raise ValueError(f"field {name}: a comparison needs at least 2 levels")
            m = _normal([0.9] + [0.1 / (n - 1)] * (n - 1))
            u = _normal([0.01] + [0.04 / max(n - 2, 1)] * (n - 2) + [0.95])
            fields[name] = FieldModel(m, u)
        return cls(fields, prior)

    def weights(self, vector: Vector) -> dict[str, float]:
        """Each field's weight for this pair (0 for a missing one), in bits."""
        return {name: fm.weight(vector.get(name)) for name, fm in self.fields.items()}

    def weight(self, vector: Vector) -> float:
        """The pair's total match weight: the prior's and every field's."""
        return _logit2(self.prior) + sum(self.weights(vector).values())

    @staticmethod
    def probability(weight: float) -> float:
        return 1.0 / (1.0 + 2.0 ** (-weight))


@dataclass
class Estimate:
    model: Model
    iterations: int
    converged: bool
    history: list[float] = field(default_factory=list)  # λ per iteration


def u_from_random(model: Model, random_vectors: Iterable[Vector]) -> Model:
    """``u`` as the level frequencies among random pairs (nearly all of them two people)."""
    counts = {name: [0.0] * len(fm.u) for name, fm in model.fields.items()}
    for vector in random_vectors:
        for name, level in vector.items():
            if level is not None and name in counts:
                counts[name][level] += 1.0
    fields = {}
    for name, fm in model.fields.items():
        total = sum(counts[name])
        fields[name] = replace(fm, u=_normal(counts[name]) if total else fm.u)
    return replace(model, fields=fields)


def estimate(
    model: Model,
    vectors: Sequence[Vector],
    random_vectors: Iterable[Vector] = (),
    *,
    iterations: int = 50,
    tolerance: float = 1e-6,
    fix_u: bool = True,
) -> Estimate:
    """m (and λ; u too unless ``fix_u``) by expectation–maximisation over candidate pairs.

    ``random_vectors`` seed ``u`` first (``u_from_random``); with ``fix_u`` it is kept
    from there, the way Splink trains u on random pairs and m by EM — steadier when
    the candidates are few."""
    random_vectors = list(random_vectors)
    if random_vectors:
        model = u_from_random(model, random_vectors)
    history: list[float] = []
    names = list(model.fields)
    for iteration in range(1, iterations + 1):
        m_num = {n: [0.0] * len(model.fields[n].m) for n in names}
        u_num = {n: [0.0] * len(model.fields[n].u) for n in names}
        matched = 0.0
        for vector in vectors:  # E: each pair's probability of being a match
            p = model.probability(model.weight(vector))
            matched += p
            for n in names:
                level = vector.get(n)
                if level is not None:
                    m_num[n][level] += p
                    u_num[n][level] += 1.0 - p
        fields = {}  # M: the expected level frequencies
        for n in names:
            fm = model.fields[n]
            m = _normal(m_num[n]) if sum(m_num[n]) else fm.m
            u = fm.u if fix_u or not sum(u_num[n]) else _normal(u_num[n])
            fields[n] = FieldModel(m, u)
        prior = min(max(matched / max(len(vectors), 1), FLOOR), 1 - FLOOR)
        change = abs(prior - model.prior) + max(
            (
                abs(a - b)
                for n in names
                for a, b in zip(fields[n].m, model.fields[n].m, strict=True)
            ),
            default=0.0,
        )
        model = Model(fields, prior)
        history.append(prior)
        if change < tolerance:
            return Estimate(model, iteration, True, history)
    return Estimate(model, iterations, False, history)


def tf_weight(m_exact: float, value_share: float) -> float:
    """The weight of an exact agreement on one value: ``log2(m / u_v)``, where ``u_v`` —
    the chance that two different people share this very value — is the value's share
    among all records (a common surname gets less, a rare one more)."""
    return math.log2(max(m_exact, FLOOR) / min(max(value_share, FLOOR), 1.0))


def _normal(values: Sequence[float]) -> tuple[float, ...]:
    floored = [max(v, 0.0) + FLOOR for v in values]
    total = sum(floored)
    return tuple(v / total for v in floored)


def _logit2(p: float) -> float:
    return math.log2(p / (1.0 - p))
