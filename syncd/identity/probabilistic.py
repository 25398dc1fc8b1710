"""The probabilistic decision: which known person, if any, a record is — and why.

For each candidate (found by the blocks: exact keys, composite keys, near-miss
keys) the pair is compared field by field (``comparisons``, and names by
``names_levels``), weighed by the Fellegi–Sunter model, and checked against a
veto: strong evidence that disagrees wins over a shared key.  The record joins
the best candidate whose probability reaches ``threshold`` and that no veto
stops; the explanation lists every field's level and weight.

The veto (issue 17's precision at 1M records): a single shared identifier —
a phone, a card, an e-mail, exact or one edit off — with given names, birth
dates and addresses that all differ (each present on both sides) is two
people: a family's shared phone, a card typo that landed on someone else's.
So are two records whose given names and birth dates both differ, whatever
else they share (a spouse or a child at the family's address and phone) —
unless the same card says otherwise: a card is one person's.

    choice = choose(record, {7: known_7, 9: known_9}, model, threshold=0.99)
    choice.identity, choice.probability, choice.fields   # 7, 0.9993, {"phone": (0, 11.2), ...}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from syncd.identity.comparisons import Person, compare, words_level
from syncd.identity.fellegi_sunter import Model

IDENTIFIERS = ("phone", "card", "email")
NamesLevels = Callable[[Person, Person], dict[str, int | None]]
NAME_LEVELS = {"given": 3, "surname": 3}  # same, close, different (``plain_names``)


def plain_names(a: Person, b: Person) -> dict[str, int | None]:
    """Names compared on their own spelling: same, close (Jaro-Winkler), different."""
    return {"given": words_level(a.given, b.given), "surname": words_level(a.surname, b.surname)}


@dataclass
class Choice:
    identity: int | None  # None: a new person
    probability: float = 0.0
    weight: float = 0.0
    fields: dict[str, tuple[int | None, float]] = field(default_factory=dict)  # level, bits
    vetoed: dict[int, str] = field(default_factory=dict)  # candidate -> why not

    def reasons(self) -> list[str]:
        shown = [f"{name} {'missing' if lvl is None else f'level {lvl}'} ({w:+.1f} bits)"
                 for name, (lvl, w) in self.fields.items()]  # fmt: skip
        return shown + [f"not {c}: {why}" for c, why in self.vetoed.items()]


def vector(a: Person, b: Person, names: NamesLevels = plain_names) -> dict[str, int | None]:
    return {**compare(a, b), **names(a, b)}


def veto(levels: Mapping[str, int | None], different: Mapping[str, int]) -> str | None:
    """Why the pair cannot be one person though an identifier agrees; None: no veto.

    ``different``: the level that means "different" for each field (the last)."""
    given, born = levels.get("given"), levels.get("birth_date")
    personal_card = levels.get("card") == 0  # a card is one person's; a phone, a family's
    if (
        not personal_card
        and given == different.get("given")
        and born is not None
        and born == different.get("birth_date")
    ):
        return "given name and birth date both differ"  # a relative, whatever they share
    shared = [n for n in IDENTIFIERS if levels.get(n) is not None and levels[n] < different[n]]
    if len(shared) != 1:
        return None  # no identifier in common (the weights decide), or several
    place = "address" if "address" in levels else "street"
    apart = [
        n
        for n in ("given", "birth_date", place)
        if levels.get(n) is not None and levels[n] == different[n]
    ]
    present = [n for n in ("given", "birth_date", place) if levels.get(n) is not None]
    if present and apart == present and len(present) >= 2:
        return f"only the {shared[0]} is shared; {', '.join(apart)} differ"
    return None


def choose(
    record: Person,
    candidates: Mapping[int, Person],
    model: Model,
    threshold: float,
    names: NamesLevels = plain_names,
) -> Choice:
    """The candidate the record most likely is, above ``threshold`` and not vetoed."""
    different = {n: len(fm.m) - 1 for n, fm in model.fields.items()}
    best = Choice(None)
    for identity, known in candidates.items():
        levels = vector(record, known, names)
        why = veto(levels, different)
        if why:
            best.vetoed[identity] = why
            continue
        weights = model.weights(levels)
        total = model.weight(levels)
        probability = model.probability(total)
        if probability >= threshold and total > best.weight:
            best = Choice(
                identity,
                probability,
                total,
                {n: (levels.get(n), w) for n, w in weights.items()},
                best.vetoed,
            )
    return best
