"""1C OData V3 values: literals for ``$filter`` and keys, and values read back.

Writing a value into a URL:
- strings are quoted with ``'`` doubled;
- GUIDs are ``guid'…'`` and dates ``datetime'yyyy-mm-ddThh:mm:ss'`` in the
  ERP's own zone, because 1C dates carry none;
- the whole option is then percent-encoded, Cyrillic included.
No value can end its literal early or add a clause to a ``$filter``.

Reading a value back (typed by ``$metadata`` in ``edm``, then as Python):
- dates carry no zone and are read in the configured ERP time zone;
- ``0001-01-01T00:00:00`` and the all-zero GUID mean "empty".

    flt = eq("Номер", "ЗК-0001'5") + " and " + eq("Проведен", True)
    url = "Document_ЗаказКлиента?" + query({"$filter": flt, "$format": "json"})
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from syncd.connectors.onec.edm import EMPTY_DATE, EMPTY_GUID, typed

# a property path: letters (Cyrillic too), digits and _, segments joined by /
FIELD = re.compile(r"^[^\W\d][\w]*(/[^\W\d][\w]*)*$")


def literal(value: Any, tz: ZoneInfo | None = None) -> str:
    """``value`` as an OData V3 literal."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, uuid.UUID):
        return f"guid'{value}'"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            if tz is None:
                raise ValueError("an aware datetime needs the ERP time zone to be written")
            value = value.astimezone(tz).replace(tzinfo=None)
        return f"datetime'{value.replace(microsecond=0).isoformat()}'"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot write a {type(value).__name__} into an OData literal")


def field(name: str) -> str:
    """A property path checked to be only a name: never a piece of query."""
    if not FIELD.match(name):
        raise ValueError(f"not a property name: {name!r}")
    return name


def eq(name: str, value: Any, tz: ZoneInfo | None = None) -> str:
    return f"{field(name)} eq {literal(value, tz)}"


def query(options: dict[str, Any]) -> str:
    """Query string with every value percent-encoded (UTF-8), OData punctuation kept."""
    parts = []
    for key, value in options.items():
        if value is None:
            continue
        text = value if isinstance(value, str) else literal(value)
        parts.append(f"{key}={quote(text, safe=chr(39) + '(),:*')}")
    return "&".join(parts)


def read_value(raw: Any, edm_type: str, tz: ZoneInfo) -> Any:
    """A JSON value or Atom text as Python, by its ``$metadata`` type (``BadValue`` if not)."""
    return python_value(typed(raw, edm_type), edm_type, tz)


def python_value(value: Any, edm_type: str, tz: ZoneInfo) -> Any:
    """A canonical value (``edm.typed``) as the Python object it stands for.

    Integers stay ``int``, fractions become ``Decimal`` (money), dates aware
    ``datetime`` in the ERP's zone, references ``UUID``; the empty date and
    the all-zero reference are ``None``.
    """
    if value is None:
        return None
    if edm_type in ("Edm.Decimal", "Edm.Double", "Edm.Single"):
        return Decimal(repr(value))
    if edm_type == "Edm.DateTime":
        return None if value == EMPTY_DATE else datetime.fromisoformat(value).replace(tzinfo=tz)
    if edm_type == "Edm.Guid":
        return None if value == EMPTY_GUID else uuid.UUID(value)
    return value
