"""The sandbox CRM's references, in the form the account sends each one.

Most references come as an object keyed by code (``reference/statuses``,
``status-groups``, ``sites``, ``payment-types``, ``payment-statuses``);
``reference/stores`` comes as a JSON **list** of stores, each carrying its
``code`` (shared/reference/retailcrm-api.md §0.1; the official PHP client's
recorded ``testStores`` body is a list).  The status set is the
out-of-the-box one (§5); the payment types and statuses are the usual
out-of-the-box ones, in the fields of the recorded bodies
(``paymentComplete`` marks the statuses that mean money received).

    body = reference_answer("stores", sites=["main"])   # {"stores": [{...}]}
"""

from __future__ import annotations

import copy

from syncd_sandbox.crm_bodies import PAID_STATUSES
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


# reference/payment-types: each type with the statuses it may take (PHP client's
# ReferencesTest shape: name, code, active, defaultForCrm/Api, description,
# deliveryTypes, paymentStatuses).
PAYMENT_TYPES = {
    "cash": ("Наличными", ["not-paid", "paid"]),
    "bank-card": ("Банковской картой", ["not-paid", "paid", "fail"]),
    "bank-transfer": ("Безналичный расчет", ["not-paid", "invoice", "paid"]),
    "e-money": ("Электронными деньгами", ["not-paid", "paid", "fail"]),
    "credit": ("В кредит", ["not-paid", "credit-check", "credit-approved", "paid", "fail"]),
}
# reference/payment-statuses: code -> (name, ordering); paymentComplete is
# true for the statuses that mean money received (crm_bodies.PAID_STATUSES).
PAYMENT_STATUSES = {
    "not-paid": ("Не оплачен", 10),
    "invoice": ("Выставлен счет", 20),
    "credit-check": ("Проверка документов на кредит", 30),
    "credit-approved": ("Кредит одобрен", 40),
    "paid": ("Оплачен", 60),
    "fail": ("Ошибка", 70),
}


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
    if name == "payment-types":
        return {"paymentTypes": _payment_types()}
    if name == "payment-statuses":
        return {"paymentStatuses": _payment_statuses()}
    raise CrmRefusal(404, "Not found")


def _payment_types() -> dict:
    return {
        code: {
            "name": name,
            "code": code,
            "active": True,
            "defaultForCrm": code == "cash",
            "defaultForApi": code == "cash",
            "description": "",
            "deliveryTypes": ["courier", "self-delivery"],
            "paymentStatuses": list(statuses),
        }
        for code, (name, statuses) in PAYMENT_TYPES.items()
    }


def _payment_statuses() -> dict:
    return {
        code: {
            "name": name,
            "code": code,
            "active": True,
            "defaultForCrm": code == "not-paid",
            "defaultForApi": code == "not-paid",
            "paymentComplete": code in PAID_STATUSES,
            "ordering": ordering,
            "paymentTypes": [t for t, (_, allowed) in PAYMENT_TYPES.items() if code in allowed],
        }
        for code, (name, ordering) in PAYMENT_STATUSES.items()
    }
