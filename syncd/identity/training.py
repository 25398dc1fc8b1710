"""Learning the model with no labels: what each field's agreement weighs, from the data.

- **u** (how often two different people agree on a field, at each level) from
  random pairs of records;
- **m** (how often one person's records do) by EM over the candidate pairs the
  blocks find, one block family at a time with the fields it blocks on left
  out — they agree by construction there (Splink's way) — averaged;
- **λ** (the share of candidate pairs that are matches) by EM with m and u held;
- **term frequencies** of surnames and given names (``name_frequencies``): a
  common name agreeing says less than a rare one.

    model = train(people_sample)
    linker = Linker(model, tf=name_frequencies(people_sample))
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence

from syncd.identity.comparisons import Person
from syncd.identity.fellegi_sunter import FieldModel, Model, estimate, u_from_random
from syncd.identity.linker import ALL_LEVELS, BLOCK_LIMIT, Prepared, blocking_keys, levels_of
from syncd.identity.names import NameKey


def name_frequencies(people: Iterable[Person]) -> dict[tuple[str, str], float]:
    """Each canonical surname's and given name's share among the records."""
    counts: Counter = Counter()
    total = 0
    for person in people:
        names = NameKey.of(person.given, person.surname, person.patronymic)
        total += 1
        if names.surname.stem:
            counts[("surname", names.surname.stem)] += 1
        if names.given.latin:
            counts[("given", names.given.latin)] += 1
    return {k: n / total for k, n in counts.items()} if total else {}


# a block family (its keys' prefix) -> the fields its pairs agree on by construction:
# training leaves them out of that family's EM (Splink's way), so they do not pass for
# evidence there; each field's m comes from the families that did not block on it
BLOCKED_ON = {
    "c": ("card",), "nc": ("card",), "p": ("phone",), "np": ("phone",), "e": ("email",),
    "gd": ("given", "surname", "birth_date"), "sdp": ("surname", "birth_date", "address"),
    "gdp": ("given", "birth_date", "address"), "dw": ("birth_date", "address"),
    "gs": ("given", "surname"), "sa": ("surname", "address"), "ga": ("given", "address"),
}  # fmt: skip
PAIRS_PER_FAMILY = 200_000


def train(people: Sequence[Person], *, seed: int = 7, random_pairs: int = 50000) -> Model:
    """m by EM over the blocks' candidate pairs, one block family at a time with the
    fields it blocks on left out; u from random pairs; λ from the candidates: no labels."""
    prepared = [Prepared.of(p) for p in people]
    blocks: dict[str, list[int]] = {}
    for i, p in enumerate(prepared):
        for key in blocking_keys(p):
            blocks.setdefault(key, []).append(i)
    families: dict[str, set[tuple[int, int]]] = {}
    for key, members in blocks.items():
        if 1 < len(members) <= BLOCK_LIMIT:
            pairs = families.setdefault(key.split(":", 1)[0], set())
            if len(pairs) < PAIRS_PER_FAMILY:
                pairs.update((a, b) for i, a in enumerate(members) for b in members[i + 1 :])
    rnd = random.Random(seed)
    n = len(prepared)
    randoms = [
        levels_of(prepared[rnd.randrange(n)], prepared[rnd.randrange(n)])
        for _ in range(random_pairs if n > 1 else 0)
    ]
    start = u_from_random(Model.initial(ALL_LEVELS, prior=0.1), randoms)
    sums: dict[str, list[float]] = {f: [0.0] * len(fm.m) for f, fm in start.fields.items()}
    seen: dict[str, float] = dict.fromkeys(start.fields, 0.0)
    every: list[dict] = []
    for family, pairs in families.items():
        skip = BLOCKED_ON.get(family, ())
        vectors = []
        for a, b in pairs:
            levels = levels_of(prepared[a], prepared[b])
            every.append(levels)
            vectors.append({f: (None if f in skip else v) for f, v in levels.items()})
        fitted = estimate(start, vectors).model
        for f, fm in fitted.fields.items():
            if f not in skip:
                weight = len(vectors)
                sums[f] = [s + weight * m for s, m in zip(sums[f], fm.m, strict=True)]
                seen[f] += weight
    fields = {
        f: FieldModel(tuple(v / seen[f] for v in sums[f]) if seen[f] else fm.m, fm.u)
        for f, fm in start.fields.items()
    }
    model = Model(fields, start.prior)
    for _ in range(20):  # λ by EM with m and u held: the candidates' share of matches
        share = sum(model.probability(model.weight(v)) for v in every) / max(len(every), 1)
        share = min(max(share, 1e-6), 1 - 1e-6)
        if abs(share - model.prior) < 1e-4:
            break
        model = Model(fields, share)
    return model
