"""The CRM account's time zone, one setting for every part that reads or writes its dates.

RetailCRM writes every date/time (history ``createdAt``, an order's
``createdAt``, ``generatedAt``) as a naive ``Y-m-d H:i:s`` in the account's
own zone — Moscow for a Russian account unless the account says otherwise.
``crm.timezone`` names it once.  Two older per-part options named it too
(the ``retailcrm_history`` source's ``account_timezone``, the ``order_sync``
flow's ``crm_timezone``): a config that still sets one keeps working for that
part, with a warning, because a part whose zone differs from the rest would
read times hours off.

    zone = crm_zone(settings, options.account_timezone, "sources.crm_orders: account_timezone")
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

log = logging.getLogger("syncd.config")


def crm_zone(settings: Any, deprecated: str | None, where: str) -> ZoneInfo:
    """``crm.timezone``, or a part's deprecated option naming the zone (ValueError if unknown)."""
    account = settings.crm.timezone
    name = deprecated or account
    try:
        zone = ZoneInfo(name)
    except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"{where}: unknown time zone {name!r}") from None
    if deprecated:
        differs = f" (crm.timezone is {account}: this part alone reads times in {name})"
        log.warning(
            "%s is deprecated: set crm.timezone, the account's zone for every part%s",
            where,
            differs if deprecated != account else "",
        )
    return zone
