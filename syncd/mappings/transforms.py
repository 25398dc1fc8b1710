"""Value conversions between 1C and RetailCRM, named in the mapping files.

- ``text``: as is (None → "");
- ``money``: a number rounded to kopecks; ``quantity``: a number;
- ``datetime``: 1C's zone-less ``yyyy-mm-ddThh:mm:ss`` (the base's zone) ↔ the
  CRM's ``yyyy-mm-dd hh:mm:ss`` (the account's zone); 1C's empty date is None;
- ``phone``: E.164 (``+79161234567``) with phonenumbers; a number that cannot
  be read is dropped (None), never guessed;
- ``email``: trimmed, lower case;
- ``{codes: {...}, default: ...}``: a code map (1C value → CRM code) and back.

    to_crm("8 (916) 123-45-67", "phone", zones)   # "+79161234567"
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from syncd.identity import keys
from syncd.mappings.model import CodeMap

EMPTY_DATE = "0001-01-01T00:00:00"


@dataclass(frozen=True)
class Zones:
    erp: ZoneInfo
    crm: ZoneInfo
    region: str = "RU"


def phone_e164(raw: Any, region: str = "RU") -> str | None:
    """One spelling of a phone for the whole of syncd (the identity keys' own)."""
    return keys.phone(raw, region)


def email(raw: Any) -> str | None:
    return keys.email(raw)


def to_crm(value: Any, transform: str | CodeMap, zones: Zones) -> Any:
    if isinstance(transform, CodeMap):
        if value in (None, ""):
            return None
        return transform.codes.get(str(value), transform.default)
    if transform == "money":
        return round(float(value or 0), 2)
    if transform == "quantity":
        return float(value or 0)
    if transform == "datetime":
        if not value or value == EMPTY_DATE:
            return None
        moment = datetime.fromisoformat(str(value)[:19]).replace(tzinfo=zones.erp)
        return moment.astimezone(zones.crm).strftime("%Y-%m-%d %H:%M:%S")
    if transform == "phone":
        return phone_e164(value, zones.region)
    if transform == "email":
        return email(value)
    return "" if value is None else value


def to_erp(value: Any, transform: str | CodeMap, zones: Zones) -> Any:
    if isinstance(transform, CodeMap):
        back = {crm: erp for erp, crm in transform.codes.items()}
        return back.get(str(value), "") if value not in (None, "") else ""
    if transform == "datetime":
        if not value:
            return EMPTY_DATE
        moment = datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=zones.crm)
        return moment.astimezone(zones.erp).strftime("%Y-%m-%dT%H:%M:%S")
    if transform in ("money", "quantity"):
        return float(value or 0)
    return "" if value is None else value


def get_path(data: dict, dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def set_path(data: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
