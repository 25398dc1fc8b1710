"""An order's facts as stored: each side's fields kept only where they differ from the base.

What syncd remembers of an order (``orders``: ``erp``, ``crm``, ``base``) holds
the mapped fields three times — as 1C shows them, as the CRM shows them, and
as both were last brought to — and once an order is in sync they are equal.
Stored, a side keeps only its fields that differ from the base's
(``fields_delta``) and the names of the base's fields it does not have at all
(``fields_absent``); read back, the side's ``fields`` are exactly what they
were.  Nothing else changes, so every decision reads the very same facts —
but for 1C's goods lines, read only to create the CRM order: once the order
is created (``created``) they are not stored (cancelling every line is built
by the 1C sink from the lines 1C holds when it writes).

    stored = pack(facts)          # before Plan.remember
    facts == unpack(stored)       # after ctx.facts, always
"""

from __future__ import annotations

from typing import Any

from syncd.model import canonical_json

SIDES = ("erp", "crm")
DELTA, ABSENT = "fields_delta", "fields_absent"


def pack(facts: dict) -> dict:
    """The facts to store (a new dict: ``facts`` and its sides are untouched)."""
    packed = dict(facts)
    erp = facts.get("erp")
    if facts.get("created") and isinstance(erp, dict) and "lines" in erp:
        packed["erp"] = {k: v for k, v in erp.items() if k != "lines"}
    base = (facts.get("base") or {}).get("fields")
    if not isinstance(base, dict):
        return packed
    for name in SIDES:
        side = packed.get(name)
        if not isinstance(side, dict) or not isinstance(side.get("fields"), dict):
            continue
        fields = side["fields"]
        stored = {k: v for k, v in side.items() if k != "fields"}
        stored[DELTA] = {k: v for k, v in fields.items() if k not in base or not _same(v, base[k])}
        absent = sorted(k for k in base if k not in fields)
        if absent:
            stored[ABSENT] = absent
        packed[name] = stored
    return packed


def unpack(facts: dict) -> dict:
    """The facts as flows read them (a new dict when anything was packed)."""
    base = (facts.get("base") or {}).get("fields")
    if not any(DELTA in (side if isinstance(side := facts.get(n), dict) else ()) for n in SIDES):
        return facts
    unpacked = dict(facts)
    for name in SIDES:
        side = facts.get(name)
        if not isinstance(side, dict) or DELTA not in side:
            continue
        absent = set(side.get(ABSENT) or ())
        fields = {k: v for k, v in (base or {}).items() if k not in absent}
        fields.update(side[DELTA])
        full = {k: v for k, v in side.items() if k not in (DELTA, ABSENT)}
        full["fields"] = fields
        unpacked[name] = full
    return unpacked


def _same(a: Any, b: Any) -> bool:
    """Equal and of one type (1 and 1.0, True and 1 are not the same stored value)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict | list):
        return canonical_json(a) == canonical_json(b)
    return a == b
