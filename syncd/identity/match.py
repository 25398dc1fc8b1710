"""Which known customer a record belongs to: deterministic keys first, names only within a block.

The candidates are the customers one of the record's keys (card, phone,
e-mail) already points to — the *block*.  No candidate: a new customer.  One:
that customer.  Several (a card says A, a phone says B): the one the stronger
keys point to wins, and another is folded into it only when their names agree
(rapidfuzz token-sort ratio ≥ ``same_name``) — a name alone never merges two
customers, and two people of the same name with different phones never meet,
because names are not keys.

    decide(["p:+79123456789"], "анна иванова",
           hits={"p:+79123456789": 7}, names={7: "анна иванова"})
    # Decision(identity=7, merge=[], reason=["same phone +79123456789"])
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from syncd.identity.keys import STRENGTH

KIND = {"p": "phone", "e": "e-mail", "c": "card"}
NEW = ("new: no known card, phone or e-mail",)


@dataclass
class Decision:
    identity: int | None  # None: a new customer
    merge: list[int] = field(default_factory=list)  # customers folded into ``identity``
    reason: list[str] = field(default_factory=list)


def names_agree(a: str, b: str, same_name: float = 90.0) -> bool:
    return bool(a and b) and fuzz.token_sort_ratio(a, b) >= same_name


def decide(
    keys: list[str],
    name: str,
    hits: dict[str, int],
    names: dict[int, str],
    bound: int | None = None,
    same_name: float = 90.0,
) -> Decision:
    if bound is None and not any(key in hits for key in keys):
        return Decision(None, reason=list(NEW))  # the common case in a first load: no block
    score: Counter[int] = Counter()
    why: dict[int, list[str]] = {}
    for key in keys:
        owner = hits.get(key)
        if owner is None:
            continue
        kind, value = key.split(":", 1)
        score[owner] += STRENGTH[kind]
        why.setdefault(owner, []).append(f"same {KIND[kind]} {value}")
    if bound is not None:  # a record seen before stays where it was
        why.setdefault(bound, []).insert(0, "the same record, seen before")
        score.setdefault(bound, 0)
    best = bound if bound is not None else max(score, key=lambda i: (score[i], -i))
    decision = Decision(best, reason=list(why[best]))
    for other in sorted(score):
        if other == best:
            continue
        shared = ", ".join(why[other])
        if names_agree(names.get(best, ""), names.get(other, ""), same_name) and (
            not name or names_agree(name, names.get(best, ""), same_name)
        ):
            decision.merge.append(other)
            decision.reason.append(f"merged #{other}: {shared}, and the same name")
        else:
            decision.reason.append(f"#{other} also has {shared}, but another name: kept apart")
    return decision
