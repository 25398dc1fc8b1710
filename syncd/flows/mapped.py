"""What every mapped flow shares: the admin's mapping files and the two time zones.

The zones are ``erp.timezone`` and ``crm.timezone`` (``syncd.zones``).

The mappings are read when the flow is built — at start and at each reload —
so a reload with a broken mapping file is refused as a whole and the running
flows keep the mappings they had (``MappingError`` becomes a config problem
naming the mapping file, line and column).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from syncd.mappings.load import MappingError, load_mappings
from syncd.mappings.transforms import Zones
from syncd.zones import crm_zone


class MappedFlow:
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        settings = self.context.settings  # type: ignore[attr-defined]
        try:
            self.mappings = load_mappings(settings.mappings_dir)
        except MappingError as exc:
            raise ValueError(f"mappings are not valid:\n{exc}") from None
        deprecated = getattr(self.options, "crm_timezone", None)  # type: ignore[attr-defined]
        where = f"flow {self.name}: options.crm_timezone"  # type: ignore[attr-defined]
        try:
            erp_zone = ZoneInfo(settings.erp.timezone)
        except (KeyError, ValueError):
            raise ValueError(f"unknown time zone: erp.timezone {settings.erp.timezone!r}") from None
        self.zones = Zones(
            erp_zone, crm_zone(settings, deprecated, where), self.mappings.customers.default_region
        )
