"""Near-miss keys: a phone or card one keystroke off is found by index look-ups, not scans.

A cashier who mistypes one digit of a card, or a customer who swaps two
digits of a phone, leaves a number one edit away from the right one.  Each
number is indexed under its *deletion neighbourhood*: the number with each one
digit left out (and the number itself).  Two numbers one edit apart — one
digit substituted, inserted or deleted, or two adjacent digits swapped —
always share at least one such key, so the candidates for a number are found
with ``len(number) + 1`` exact look-ups, whatever the size of the index (the
symmetric-deletion idea of SymSpell, at distance 1).  A few numbers further
apart share one too (a digit moved from one end to the other): candidates are
confirmed with ``one_edit_apart``.

Keys are short digests (``n<kind>:<hex>``), position-free, so that the index
holds them like today's exact keys.  Sharing a key is only a candidate: the
caller confirms the edit with ``one_edit_apart`` and weighs it like any other
evidence (a near phone is weaker than an exact one).

    near_keys("c", "4276380012345678")    # 17 keys
    one_edit_apart("4276380012345678", "4276380012345687")   # True: a swap
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

MIN_DIGITS = 7  # shorter numbers collide too often to be evidence when near


@lru_cache(maxsize=1024)  # a number is seldom seen twice in a batch; 12 keys each
def near_keys(kind: str, digits: str) -> tuple[str, ...]:
    """The deletion-neighbourhood keys of ``digits`` (a phone's or card's digits), kind
    ``p`` or ``c``; none for numbers too short to tell people apart when near."""
    if len(digits) < MIN_DIGITS or not digits.isdigit():
        return ()
    variants = {digits} | {digits[:i] + digits[i + 1 :] for i in range(len(digits))}
    return tuple(sorted(f"n{kind}:{_digest(v)}" for v in variants))


def one_edit_apart(a: str, b: str) -> bool:
    """Exactly one substitution, insertion, deletion or adjacent swap turns ``a`` into ``b``."""
    if a == b:
        return False
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        i = diff[0] if len(diff) == 2 else -1
        return len(diff) == 2 and diff[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    short, long_ = (a, b) if la < lb else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("ascii"), digest_size=8).hexdigest()
