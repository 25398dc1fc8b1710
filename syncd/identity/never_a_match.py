"""What is never a match, whatever the weights: the rules ``Linker`` holds above them.

The Fellegi–Sunter weights take each field as independent evidence; people are not
independent (a family shares a surname, a home, a phone; among a million people
namesakes share birthdays and streets).  Each rule here names a pair of records the
weights would join and that are two people; ``Linker._apart_by_rules`` applies them
to the levels ``levels_of`` gives a pair.

    strangers_alike({"given": 0, "surname": 0, "birth_date": 0, "address": 3})  # True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from rapidfuzz.distance import Levenshtein

from syncd.identity.comparisons import Person
from syncd.identity.names import Level

if TYPE_CHECKING:
    from syncd.identity.linker import Prepared

# names.Level -> this model's levels: exact, same root, close (or an initial),
# the other gender's form of one family name, different
GIVEN = {Level.EXACT: 0, Level.SAME_ROOT: 1, Level.CLOSE: 2, Level.INITIAL: 2,
         Level.SAME_STEM_OTHER_GENDER: 4, Level.DIFFERENT: 4}  # fmt: skip
FAMILY = {Level.EXACT: 0, Level.SAME_ROOT: 1, Level.CLOSE: 2, Level.INITIAL: 2,
          Level.SAME_STEM_OTHER_GENDER: 3, Level.DIFFERENT: 4}  # fmt: skip
IDENTIFIERS = ("card", "phone", "email")
NUMBERS, NEAR = ("card", "phone"), 1  # comparisons' level for a number a keystroke off


def only_a_near_number(levels: Mapping, different: Mapping[str, int]) -> bool:
    """A phone or card a keystroke off is all the two have in common: no identifier
    equal, and no other field agreeing in any measure.  Among a million customers a
    typed number is a keystroke from a stranger's about as often as from the right
    one (loyalty cards are issued from one range: nearly every one-digit change of
    a card is another card), so alone it says nothing of who is who — whatever a
    training sample, where strangers' numbers seldom meet, makes it weigh."""
    if not any(levels.get(f) == NEAR for f in NUMBERS):
        return False
    if any(levels.get(f) == 0 for f in IDENTIFIERS):
        return False
    return not any(
        v is not None and v < different.get(f, 0) for f, v in levels.items() if f not in IDENTIFIERS
    )


def identifiers_all_differ(levels: Mapping) -> bool:
    """Two or more of card, phone and e-mail are on both records, every one of them
    different (not a keystroke off), and the birth dates are not the same.

    The weights take each field as independent evidence, but a family is not
    independent: a spouse, a child or a twin shares the surname and the home, often
    the birth date's year, sometimes a given name's root (Mary, Marie), and the
    surname and address alone outweigh a phone and a card that disagree.  One
    person's second phone or new card happens; all of their identifiers changed at
    once, with no birth date to say it is them, is another person.  On the synthetic
    Latin set at 100k this rule took precision from 0.9985 to 0.9992 for 0.3% of
    recall (docs/pos.md)."""
    compared = [levels.get(f) for f in IDENTIFIERS if levels.get(f) is not None]
    return len(compared) >= 2 and all(v == 2 for v in compared) and levels.get("birth_date") != 0


def strangers_alike(levels: Mapping) -> bool:
    """No card, phone or e-mail in common (none equal, none a keystroke off), and either
    the homes differ, or the surnames differ (not one family name's two forms) and the
    birth dates are not the same — or they are, but not the home either, and no card,
    phone or e-mail is on both records to compare.

    Among a million people, namesakes born the same day live in other towns (a
    popular name's thousand bearers share some 20 birthdays), and a building's
    neighbours share first names and patronymics: with nothing that is one person's
    own to join them, name, birth date and home add up past the threshold for two
    people.  One person who moved, or took another surname, and left no card, phone or
    e-mail on either record stays two customers (docs/pos.md gives what this costs in
    recall)."""
    if any(levels.get(f) in (0, 1) for f in IDENTIFIERS):
        return False
    if levels.get("address") == 3:
        return True
    if levels.get("surname") != FAMILY[Level.DIFFERENT]:
        return False
    if levels.get("birth_date") != 0:
        return True
    # born the same day: another surname outside the same home, with no card, phone or
    # e-mail on both records to compare (a corrupted number that differs still weighs)
    return levels.get("address") not in (0, 1) and all(levels.get(f) is None for f in IDENTIFIERS)


def personal_identifier_shared(a: Person, b: Person) -> bool:
    """A card within two keystrokes of the other's, or one e-mail: one person's own
    (a phone is often a family's)."""
    if set(a.emails) & set(b.emails):
        return True
    return any(Levenshtein.distance(x, y, score_cutoff=2) <= 2 for x in a.cards for y in b.cards)


def known_names_apart(a: Prepared, b: Prepared, levels: Mapping) -> bool:
    """Two first names both in the name table, of different roots (Сергей / Анна, not a
    typo of one another), and no shared card: two people, whatever else they share.
    (A spelling rule for names the table does not know — far apart by Jaro-Winkler —
    gained precision on the synthetic sets but lost FEBRL's heavily corrupted names.)"""
    ga, gb = a.names.given, b.names.given
    if levels.get("given") != GIVEN[Level.DIFFERENT] or levels.get("card") == 0:
        return False
    return bool(ga.roots and gb.roots and not ga.roots & gb.roots)
