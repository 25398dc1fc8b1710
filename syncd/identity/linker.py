"""Probabilistic linking, incremental: each record joins the person it most likely is, or none.

The linker holds a slice of people in memory (``model_resolver`` fills it from
the store a batch at a time; ``bench/identity_fs.py`` runs it on its own):

- **blocks** (``blocking_keys``): today's exact keys (card, phone, e-mail),
  near-miss keys for phones and cards (``near_keys``: one keystroke off),
  and composite keys that need no identifier — name + birth date (either
  name order), surname + birth date + postcode, birth date + postcode or
  town, the two names, surname + street + house; a key shared by more than
  ``BLOCK_LIMIT`` people finds nobody;
- **comparison** of the record with each record of each candidate person
  (``comparisons``, names by ``names``: transliteration, diminutives,
  gendered surnames), the best pair counting;
- **decision** by the Fellegi–Sunter model with term-frequency weights for
  exact name agreement, the veto (``probabilistic``) and the rules no weight
  overrides (``never_a_match``, applied by ``Linker._apart_by_rules``); the model
  is learnt by ``training``.

    linker = Linker(train(people_sample), tf=name_frequencies(people_sample))
    identity, weight = linker.add(person)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rapidfuzz.distance import JaroWinkler

from syncd.identity.comparisons import LEVELS, Person, compare
from syncd.identity.fellegi_sunter import Model, tf_weight
from syncd.identity.names import Level, NameKey
from syncd.identity.near_keys import near_keys
from syncd.identity.never_a_match import (
    FAMILY,
    GIVEN,
    IDENTIFIERS,
    identifiers_all_differ,
    known_names_apart,
    only_a_near_number,
    personal_identifier_shared,
    strangers_alike,
)
from syncd.identity.probabilistic import veto

NAME_FIELDS = {"given": 5, "surname": 5, "patronymic": 5}
ALL_LEVELS = {
    **{f: n for f, n in LEVELS.items() if f not in ("street", "house", "postcode", "city")},
    "address": 4,
    **NAME_FIELDS,
}
STRICT_SHARE = 0.05  # m of "different" below this: the field tells people apart (see above)
FAR_APART = 0.75  # Jaro-Winkler below which two given names are no typo of one another
BEYOND_NAMES = ("phone", "card", "email", "birth_date")
RARE = ("*", "rare")  # in a term-frequency table: the share a name not listed is taken at
BLOCK_LIMIT = 30  # a key shared by more people says little: it finds no candidates
RIVAL_BITS = 1.0  # a rival this close to the best weight is as likely (``Linker._torn``)
BRIDGE_FLOOR = -5.0  # bits: two people whose records compare below this are not merged


@dataclass(frozen=True)
class Prepared:
    person: Person
    names: NameKey

    @classmethod
    def of(cls, person: Person) -> Prepared:
        return cls(person, NameKey.of(person.given, person.surname, person.patronymic))


def name_levels(a: Prepared, b: Prepared) -> dict[str, int | None]:
    given, surname, patronymic = a.names.compare(b.names)
    if given == Level.DIFFERENT and a.names.swapped(b.names):
        # given name and surname swapped: each compared with the other's, as they agree
        crossed = NameKey(b.names.surname, b.names.given, b.names.patronymic)
        given, surname, _ = a.names.compare(crossed)
    return {
        "given": None if given == Level.MISSING else GIVEN[given],
        "surname": None if surname == Level.MISSING else FAMILY[surname],
        "patronymic": None if patronymic == Level.MISSING else FAMILY[patronymic],
    }


ADDRESS_PARTS = ("street", "house", "postcode", "city")
OTHER_TOWN = 2  # comparisons' level for two towns' names that differ


def address_level(levels: dict[str, int | None]) -> int | None:
    """One level for the address: its parts are not independent (a street and its
    postcode agree together), so weighing each would count one fact four times.
    0 the same street and house, 1 close, 2 the same postcode or town only,
    3 different; None when either side has no address.  In two towns (their
    postcodes apart too) the same street and house are two homes: every town has
    its ул. Ленина, 2."""
    street, house = levels.get("street"), levels.get("house")
    postcode, city = levels.get("postcode"), levels.get("city")
    if all(v is None for v in (street, house, postcode, city)):
        return None
    if city == OTHER_TOWN and postcode not in (0, 1):  # a town mistyped keeps its postcode
        return 3
    if street == 0 and house == 0:
        return 0
    if (street in (0, 1) and house in (0, None)) or (postcode == 0 and house == 0):
        return 1
    if postcode in (0, 1) or city in (0, 1):
        return 2
    return 3


def levels_of(a: Prepared, b: Prepared) -> dict[str, int | None]:
    levels = compare(a.person, b.person)
    address = address_level(levels)
    for part in ADDRESS_PARTS:
        levels.pop(part)
    return {**levels, "address": address, **name_levels(a, b)}


def exact_keys(person: Person) -> list[str]:
    """Today's keys: each card, phone and e-mail as written the one way."""
    keys = [f"c:{c}" for c in person.cards] + [f"p:{x}" for x in person.phones]
    return keys + [f"e:{e}" for e in person.emails]


def identifiers_only(person: Person) -> bool:
    """A record with identifiers and nothing else to compare (a till's receipt)."""
    return not any(getattr(person, f) for f in DESCRIBING)


DESCRIBING = ("given", "surname", "patronymic", "birth_date", *ADDRESS_PARTS)


def blocking_keys(p: Prepared) -> list[str]:
    person, names = p.person, p.names
    keys = exact_keys(person)
    for phone in person.phones:
        keys += near_keys("p", phone.lstrip("+"))
    for card in person.cards:
        keys += near_keys("c", card)
    given = min(names.given.roots, default=names.given.latin) if names.given.latin else ""
    surname = names.surname.stem
    if person.birth_date:
        if given and surname:
            keys.append("gd:" + "|".join(sorted((given, surname))) + "|" + person.birth_date)
        if surname and person.postcode:
            keys.append(f"sdp:{surname}|{person.birth_date}|{person.postcode}")
        if given and person.postcode:
            keys.append(f"gdp:{given}|{person.birth_date}|{person.postcode}")
        for where in (person.postcode, person.city):  # a typo in each name: born there then
            if where:
                keys.append(f"dw:{person.birth_date}|{where}")
    if given and surname:
        keys.append("gs:" + "|".join(sorted((given, surname))))  # common names: too big a block
    if surname and person.street and person.house:
        keys.append(f"sa:{surname}|{person.street}|{person.house}")
    if given and person.street and person.house:
        keys.append(f"ga:{given}|{person.street}|{person.house}")
    return keys


class Linker:
    def __init__(
        self,
        model: Model,
        threshold: float = 0.99,
        tf: Mapping | None = None,
        one_per_group: bool = False,
    ) -> None:
        self.model, self.threshold = model, threshold
        # linking two files (FEBRL4's A and B): a person has one record in each at most
        self.one_per_group = one_per_group
        self.groups: dict[int, set[str]] = {}
        self.blocks: dict[str, list[int]] = {}
        self.people: dict[int, list[Prepared]] = {}
        self.tf = tf or {}  # ("surname"|"given", canonical value) -> share of records
        self.next_id = 1
        self.merged: dict[int, int] = {}  # a person folded into another -> that one
        self.different = {n: len(fm.m) - 1 for n, fm in model.fields.items()}
        # the last ``add``'s choice: its weight and the levels of the record that weighed most
        self.chosen: tuple[float, dict] | None = None
        # where the data says one person's records almost never disagree outright on a
        # field, a pair that does (with no card or e-mail in common) is two people
        self.strict = {
            f for f in ("given", "birth_date")
            if f in model.fields and model.fields[f].m[-1] < STRICT_SHARE
        }  # fmt: skip

    def _apart_by_rules(self, a: Prepared, b: Prepared, levels: Mapping) -> bool:
        """Two people whatever the weights say (the weights assume fields independent;
        a family shares a surname, an address, often a phone, so they are not):

        - two known given names of different roots (``known_names_apart``);
        - a number a keystroke off and nothing else (``only_a_near_number``);
        - two or more identifiers on both sides, each of them different, and no birth
          date in common (``identifiers_all_differ``): a relative at the same address;
        - no identifier in common and another home, or another surname with another
          birth date (``strangers_alike``): namesakes, neighbours;
        - nothing but the names agrees: no identifier, birth date or address;
        - with no card (within two keystrokes) or e-mail in common, a given name far
          from the other's, or another birth date, where the data learnt from says
          that one person's records almost never differ so (``STRICT_SHARE``)."""
        if known_names_apart(a, b, levels) or only_a_near_number(levels, self.different):
            return True
        if identifiers_all_differ(levels) or strangers_alike(levels):
            return True
        beyond_names = any(levels.get(f) in (0, 1) for f in BEYOND_NAMES)
        if not beyond_names and levels.get("address") not in (0, 1):
            return True
        if not self.strict or personal_identifier_shared(a.person, b.person):
            return False
        if "birth_date" in self.strict and levels.get("birth_date") == self.different.get(
            "birth_date"
        ):
            return True
        ga, gb = a.names.given.latin, b.names.given.latin
        return (
            "given" in self.strict
            and levels.get("given") == GIVEN[Level.DIFFERENT]
            and min(len(ga), len(gb)) >= 3
            and JaroWinkler.similarity(ga, gb) < FAR_APART
        )

    def add(
        self,
        person: Person,
        group: str = "",
        prepared: Prepared | None = None,
        keys: list[str] | None = None,
    ) -> tuple[int, float]:
        """The person id the record joins (a new one when none is likely enough).
        ``group``: the file the record comes from, with ``one_per_group``;
        ``prepared`` and ``keys``: the record's, when the caller has them already."""
        p = prepared or Prepared.of(person)
        keys = blocking_keys(p) if keys is None else keys
        candidates: set[int] = set()
        for key in keys:
            owners = self.blocks.get(key)
            if owners and len(owners) <= BLOCK_LIMIT:
                candidates.update(owners)
        likely: list[tuple[float, int]] = []
        closest: dict[int, dict] = {}
        for identity in candidates:
            if group and self.one_per_group and group in self.groups.get(identity, ()):
                continue
            known = self.people.get(identity, ())
            scored = [self._scored(p, k) for k in known]
            if not scored:
                continue  # nothing recorded of that one to compare with
            weight, levels = max(scored, key=lambda s: s[0])
            if len(scored) > 1 and _says_two([(p, k) for k in known], scored):
                continue  # a record of that person says the two are not one
            if self.model.probability(weight) >= self.threshold:
                likely.append((weight, identity))
                closest[identity] = levels
        self.chosen = None
        best_weight, best = max(likely, key=lambda c: (c[0], -c[1]), default=(0.0, 0))
        one = {c for _, c in likely if c == best or (self._alike(c, best) and self._apart(c, best))}
        if not likely or self._torn(likely, one, closest[best]):
            best, best_weight = self.next_id, 0.0
            self.next_id += 1
            self.people[best] = []
        else:  # ties: the oldest (the family's phone on a receipt with nothing else)
            self.chosen = (best_weight, closest[best])
            for other in one - {best}:  # the record is each of them: one person
                self._merge(other, into=best)
        self.people[best].append(p)
        if group:
            self.groups.setdefault(best, set()).add(group)
        for key in keys:
            owners = self.blocks.setdefault(key, [])
            if best not in owners:
                owners.append(best)
        return best, best_weight

    @staticmethod
    def _torn(likely: list[tuple[float, int]], one: set[int], levels: Mapping) -> bool:
        """The record is as likely another person who is not the best's match, and it
        shares no identifier exactly with the best: a card a keystroke from two people's
        cards is neither's (at a million cards, one typo in two is near somebody else's)."""
        if any(levels.get(f) == 0 for f in IDENTIFIERS):
            return False
        top = max(w for w, _ in likely)
        return any(top - w < RIVAL_BITS for w, c in likely if c not in one)

    def _alike(self, a: int, b: int) -> bool:
        """Two known people likely one: some record of each, compared, reaches the
        threshold, and no two of their records say they are two people (a record that
        lacks what tells namesakes apart must not bridge them)."""
        pairs = [(x, y) for x in self.people[a] for y in self.people[b]]
        scored = [self._scored(x, y) for x, y in pairs]
        if _says_two(pairs, scored):
            return False
        return self.model.probability(max(w for w, _ in scored)) >= self.threshold

    def _apart(self, a: int, b: int) -> bool:
        """Two people may merge: no file holds a record of both (with ``one_per_group``)."""
        if not self.one_per_group:
            return True
        return not (self.groups.get(a, set()) & self.groups.get(b, set()))

    def _merge(self, other: int, into: int) -> None:
        """Fold person ``other`` into ``into`` (a record both likely are links them)."""
        moved = self.people.pop(other)
        self.people[into].extend(moved)
        self.groups.setdefault(into, set()).update(self.groups.pop(other, set()))
        self.merged[other] = into
        for p in moved:
            for key in blocking_keys(p):
                owners = self.blocks.get(key, [])
                if other in owners:
                    owners.remove(other)
                if into not in owners:
                    owners.append(into)

    def final(self, identity: int) -> int:
        """The person an earlier answer's id now is (after merges)."""
        while identity in self.merged:
            identity = self.merged[identity]
        return identity

    def _scored(self, a: Prepared, b: Prepared) -> tuple[float, dict]:
        """The weight of the evidence that ``a`` and ``b`` are one person, and its levels."""
        levels = levels_of(a, b)
        if veto(levels, self.different) or self._apart_by_rules(a, b, levels):
            return float("-inf"), levels
        weights = self.model.weights(levels)
        rare = self.tf.get(RARE)  # the share below which the table lists no name
        for field, value in (("surname", a.names.surname.stem), ("given", a.names.given.latin)):
            level = levels.get(field)
            share = self.tf.get((field, value), rare if level == 0 else None)
            if level is not None and share is not None:
                # a common name agreeing says less, a rare one more; a near spelling of a
                # name no more than the name itself
                m_exact = self.model.fields[field].m[0]
                exact = tf_weight(m_exact, share)
                weights[field] = exact if level == 0 else min(weights[field], exact)
        return sum(weights.values()) + self.model.weight({}), levels


def _says_two(pairs: list[tuple[Prepared, Prepared]], scored: list[tuple[float, dict]]) -> bool:
    """Some pair of records, each describing a person, compares below ``BRIDGE_FLOOR``.

    The rule keeps namesakes apart: a record that lacks what tells them apart (a
    birth date, an address) must not join both.  A till's receipt has nothing that
    tells people apart (``identifiers_only``): another card or mailbox on it is one
    person's second as often as another person's, and it compares low with almost
    every other record of the customer — so it never counts here."""
    return any(
        w < BRIDGE_FLOOR and not identifiers_only(a.person) and not identifiers_only(b.person)
        for (a, b), (w, _) in zip(pairs, scored, strict=True)
    )
