"""The sandbox CRM's references, in the form the account sends each one.

Most references come as an object keyed by code (``reference/statuses``,
``status-groups``, ``sites``); ``reference/stores`` comes as a JSON **list**
of stores, each carrying its ``code`` (shared/reference/retailcrm-api.md
§0.1).  The status set is the out-of-the-box one (§5).

    body = reference_answer("stores", sites=["main"])   # {"stores": [{...}]}
"""

from __future__ import annotations

import copy

from syncd_sandbox.crm_state import GROUP_OF, STATUS_GROUPS, CrmRefusal

STORES = [
    {
        "code": "main-store",
        "name": "Main store",
        "type": "store-type-warehouse",
        "active": True,
        "inventoryType": "integer",
        "address": {"countryIso": "RU", "city": "Москва", "text": "ул. Складская, 1"},
    },
    {
        "code": "pickup-point",
        "name": "Pickup point",
        "type": "store-type-retail",
        "active": True,
        "inventoryType": "integer",
        "address": {"countryIso": "RU", "city": "Москва", "text": "пр. Торговый, 5"},
    },
]


def reference_answer(name: str, sites: list[str]) -> dict:
    """The payload of ``GET reference/<name>`` (the envelope's ``success`` aside)."""
    if name == "statuses":
        codes = list(GROUP_OF)
        return {
            "statuses": {
                code: {
                    "code": code,
                    "name": code,
                    "active": True,
                    "group": group,
                    "ordering": codes.index(code) * 10,
                }
                for code, group in GROUP_OF.items()
            }
        }
    if name == "status-groups":
        return {
            "statusGroups": {
                group: {
                    "code": group,
                    "name": group,
                    "active": True,
                    "ordering": (i + 1) * 10,
                    "statuses": codes,
                    "process": group not in ("new", "complete", "cancel"),
                }
                for i, (group, codes) in enumerate(STATUS_GROUPS.items())
            }
        }
    if name == "sites":
        return {
            "sites": {
                site: {
                    "id": i + 1,
                    "code": site,
                    "name": site,
                    "currency": "RUB",
                    "countryIso": "RU",
                }
                for i, site in enumerate(sites)
            }
        }
    if name == "stores":
        return {"stores": copy.deepcopy(STORES)}
    raise CrmRefusal(404, "Not found")
