"""1C OData values typed by ``$metadata``: one form whatever the wire said.

A real 1C sends the same property in different forms: JSON (``$format=json``)
has native booleans and numbers, ``Edm.Int64`` as a string; an Atom entry
of an exchange package (``SelectChanges``) carries **no** ``m:type`` on
scalars, so ``<d:Posted>false</d:Posted>`` is just the text ``"false"``,
which Python's ``bool()`` reads as true.  The wire never decides a type
here: the property's type in ``$metadata`` does, and every value becomes
its canonical form, the one syncd stores, hashes and maps:

==================================  ======================================
Edm type                            canonical value
==================================  ======================================
Boolean                             ``True`` / ``False`` (``true``/``false``/``1``/``0``)
Byte, SByte, Int16, Int32, Int64    ``int``, range-checked
Decimal, Double, Single             ``float``, finite
DateTime                            ``"yyyy-mm-ddThh:mm:ss"`` (1C dates carry no zone;
                                    empty is ``0001-01-01T00:00:00``)
Guid                                lower-case ``"xxxxxxxx-…"`` (empty is all zeros)
Binary                              base64 text, checked
String and anything else            ``str``
==================================  ======================================

``None`` (``m:null``, JSON ``null``) stays ``None``.  A value that does not
convert raises ``BadValue`` naming the property and what was expected; the
caller names the object (see ``changes.EntryReader``), so a broken entry is
a rejected record, never a silently wrong value.

    typed("false", "Edm.Boolean")        # False
    typed("1", "Edm.Int64")              # 1
    typed(20000, "Edm.Double")           # 20000.0
    typed("maybe", "Edm.Boolean")        # BadValue: expected Edm.Boolean, got 'maybe'
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import uuid
from datetime import datetime
from typing import Any

from syncd.errors import SyncdError

EMPTY_DATE = "0001-01-01T00:00:00"
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"

INT_RANGES = {
    "Edm.Byte": (0, 255),
    "Edm.SByte": (-128, 127),
    "Edm.Int16": (-(2**15), 2**15 - 1),
    "Edm.Int32": (-(2**31), 2**31 - 1),
    "Edm.Int64": (-(2**63), 2**63 - 1),
}
FLOATS = {"Edm.Decimal", "Edm.Double", "Edm.Single"}
INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")
NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")
TRUE, FALSE = {"true", "1"}, {"false", "0"}


class BadValue(SyncdError, ValueError):
    """A property whose value is not of its ``$metadata`` type."""

    def __init__(self, field: str, edm: str, raw: Any) -> None:
        self.field, self.edm, self.shown = field, edm, _shown(raw)
        super().__init__(f"field {field}: expected {edm}, got {self.shown}")

    def inside(self, prefix: str) -> BadValue:
        """The same problem, its field named from an outer level (``Товары[2].Отменено``)."""
        outer = BadValue(f"{prefix}{self.field}", self.edm, None)
        outer.shown = self.shown
        outer.args = (f"field {outer.field}: expected {self.edm}, got {self.shown}",)
        return outer


def typed(raw: Any, edm: str, field: str = "value") -> Any:
    """``raw`` (JSON value or Atom text) in the canonical form of ``edm``."""
    if raw is None:
        return None
    if edm == "Edm.Boolean":
        return _boolean(raw, edm, field)
    if edm in INT_RANGES:
        return _integer(raw, edm, field)
    if edm in FLOATS:
        return _number(raw, edm, field)
    if edm == "Edm.DateTime":
        return _datetime(raw, edm, field)
    if edm == "Edm.Guid":
        return _guid(raw, edm, field)
    if edm == "Edm.Binary":
        return _binary(raw, edm, field)
    return _text(raw)


def _boolean(raw: Any, edm: str, field: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
    raise BadValue(field, edm, raw)


def _integer(raw: Any, edm: str, field: str) -> int:
    if isinstance(raw, bool):
        raise BadValue(field, edm, raw)
    whole = isinstance(raw, float) and raw.is_integer()
    if not (isinstance(raw, int) or whole or (isinstance(raw, str) and INTEGER.match(raw))):
        raise BadValue(field, edm, raw)
    value = int(raw)
    low, high = INT_RANGES[edm]
    if not low <= value <= high:
        raise BadValue(field, edm, raw)
    return value


def _number(raw: Any, edm: str, field: str) -> float:
    if isinstance(raw, bool):
        raise BadValue(field, edm, raw)
    if not (isinstance(raw, int | float) or (isinstance(raw, str) and NUMBER.match(raw))):
        raise BadValue(field, edm, raw)
    value = float(raw)
    if not math.isfinite(value):
        raise BadValue(field, edm, raw)
    return value


def _datetime(raw: Any, edm: str, field: str) -> str:
    if not isinstance(raw, str):
        raise BadValue(field, edm, raw)
    text = raw.strip()
    if text == "":
        return EMPTY_DATE
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise BadValue(field, edm, raw) from None
    if value.tzinfo is not None or "T" not in text:
        raise BadValue(field, edm, raw)  # 1C writes local time with the T, never a zone
    return value.replace(microsecond=0).isoformat()


def _guid(raw: Any, edm: str, field: str) -> str:
    if not isinstance(raw, str):
        raise BadValue(field, edm, raw)
    if raw.strip() == "":
        return EMPTY_GUID
    try:
        return str(uuid.UUID(raw.strip()))
    except ValueError:
        raise BadValue(field, edm, raw) from None


def _binary(raw: Any, edm: str, field: str) -> str:
    if not isinstance(raw, str):
        raise BadValue(field, edm, raw)
    text = "".join(raw.split())
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadValue(field, edm, raw) from None
    return text


def _text(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"  # as the same value reads in Atom
    return str(raw)


def _shown(raw: Any) -> str:
    text = repr(raw)
    return text if len(text) <= 40 else text[:37] + "..."
