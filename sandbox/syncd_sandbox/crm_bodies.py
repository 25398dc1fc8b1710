"""The keys a RetailCRM order or customer body carries beyond what was written.

A real order answer holds some 60–90 keys the account fills in or computes
(shared/reference/retailcrm-api.md §0.1, §3).  The sandbox keeps its records
in that shape, so whatever reads them — the client, a test, the demo — sees
what a real account sends:

- ``slug`` = id, ``number`` = id + the site's first letter unless given;
- every item has an ``id`` that stays with it across edits (an edit that
  passes an item's ``id`` changes that item; an item without one is new);
- ``customer`` is the nested customer object, ``type: "customer"`` and its
  ``id`` among the rest;
- ``summ`` (the items after their discounts), ``totalSumm`` (``summ`` less the
  order's discount, plus delivery), ``prepaySum`` (the paid payments) and
  ``purchaseSumm`` (the items at purchase price), recomputed on every write;
- ``fullPaidAt``, set when the paid payments reach ``totalSumm`` (see
  ``mark_full_paid``: the rule is the sandbox's assumption);
- ``payments`` is kept as a list, each payment with its ``id``: the form of
  create and upload answers and of history; GET and list answers show it as
  a map keyed by id (``crm_payments.order_answer``);
- an empty ``customFields`` is ``[]`` (PHP's empty map).

    order = order_body(written, ids, site="main", customer=customer_body(c))
    refresh_totals(order)
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

# Fields an order gets when the writer leaves them out, as a new account fills them.
ORDER_DEFAULTS: dict[str, Any] = {
    "orderType": "eshop-individual",
    "orderMethod": "shopping-cart",
    "privilegeType": "none",
    "currency": "RUB",
    "countryIso": "RU",
    "call": False,
    "expired": False,
    "shipped": False,
    "fromApi": True,
    "discountManualAmount": 0,
    "discountManualPercent": 0,
    "weight": 0,
    "contragent": {"contragentType": "individual"},
}
CUSTOMER_DEFAULTS: dict[str, Any] = {
    "type": "customer",
    "isContact": False,
    "vip": False,
    "bad": False,
    "personalDiscount": 0,
    "contragent": {"contragentType": "individual"},
    "tags": [],
    "segments": [],
}
# What an order's contact fields give a customer the account creates for it.
CONTACT_FIELDS = ("firstName", "lastName", "patronymic", "email")
COMPUTED_ORDER_KEYS = (
    "id",
    "slug",
    "summ",
    "totalSumm",
    "prepaySum",
    "purchaseSumm",
    "fullPaidAt",
)
# Payment statuses with ``paymentComplete: true`` in reference/payment-statuses:
# money received, counted in ``prepaySum`` and towards ``fullPaidAt``.
PAID_STATUSES = ("paid",)

NewId = Callable[[], int]


def order_body(
    data: dict, *, order_id: int, site: str, created_at: str, new_id: NewId, from_api: bool
) -> dict:
    """A new order as the account keeps it (without its customer: see ``nested_customer``)."""
    order = {**ORDER_DEFAULTS, **{k: v for k, v in data.items() if k not in COMPUTED_ORDER_KEYS}}
    order.update(id=order_id, slug=order_id, site=site, createdAt=created_at, fromApi=from_api)
    order["number"] = data.get("number") or f"{order_id}{site[0].upper()}"  # API: optional
    order["statusUpdatedAt"] = created_at
    order["customFields"] = data.get("customFields") or []
    order["items"] = with_item_ids(data.get("items") or [], [], new_id, created_at)
    order["payments"] = with_payment_ids(data.get("payments") or [], [], new_id)
    refresh_totals(order)
    mark_full_paid(order, created_at)
    return order


def customer_body(data: dict, *, customer_id: int, site: str, created_at: str) -> dict:
    customer = {**CUSTOMER_DEFAULTS, **data}
    customer.update(id=customer_id, site=site, createdAt=created_at)
    customer["customFields"] = data.get("customFields") or []
    return customer


def nested_customer(customer: dict) -> dict:
    """The customer as an order carries it: the whole customer, ``type`` and ``id`` included."""
    return copy.deepcopy(customer)


def customer_from_order(order: dict) -> dict:
    """The customer the account creates for an order that names none it knows."""
    reference = order.get("customer") or {}
    data = {name: order[name] for name in CONTACT_FIELDS if order.get(name)}
    if order.get("phone"):
        data["phones"] = [{"number": order["phone"]}]
    if reference.get("externalId"):
        data["externalId"] = reference["externalId"]
    return data


def with_item_ids(items: list, before: list, new_id: NewId, created_at: str) -> list[dict]:
    """Items with their ids: an item naming a known ``id`` is that item changed, others are new."""
    known = {item["id"]: item for item in before}
    out = []
    for item in items:
        old = known.get(item.get("id"))
        if old is not None:
            out.append(_item({**old, **item}, old["id"], old.get("createdAt", created_at)))
        else:
            out.append(_item({k: v for k, v in item.items() if k != "id"}, new_id(), created_at))
    return out


def with_payment_ids(payments: list | dict, before: list, new_id: NewId) -> list[dict]:
    """Payments as a list with their ids (a payment naming a known ``id`` is that payment)."""
    known = {p["id"]: p for p in before}
    given = list(payments.values()) if isinstance(payments, dict) else list(payments)
    out = []
    for payment in given:
        old = known.get(payment.get("id"))
        if old is not None:
            out.append({**old, **payment, "id": old["id"]})
        else:
            fresh = {"status": "not-paid", **payment, "id": new_id()}
            out.append(fresh)
    return out


def refresh_totals(order: dict) -> None:
    """``summ``, ``totalSumm``, ``prepaySum``, ``purchaseSumm`` from the items and payments."""
    items = [i for i in order.get("items") or [] if not i.get("isCanceled")]
    summ = sum((i["initialPrice"] - i["discountTotal"]) * i["quantity"] for i in items)
    discount = (
        _number(order.get("discountManualAmount"))
        + summ * _number(order.get("discountManualPercent")) / 100
    )
    delivery = _number((order.get("delivery") or {}).get("cost"))
    purchase = sum(_number(i.get("purchasePrice")) * i["quantity"] for i in items)
    order["summ"] = _money(summ)
    order["totalSumm"] = _money(summ - discount + delivery)
    order["prepaySum"] = _money(paid_sum(order))
    order["purchaseSumm"] = _money(purchase)


def paid_sum(order: dict) -> float:
    """What the order's payments in a paid status (``PAID_STATUSES``) add up to."""
    payments = order.get("payments") or []
    return sum(_number(p.get("amount")) for p in payments if p.get("status") in PAID_STATUSES)


def mark_full_paid(order: dict, now: str) -> None:
    """``fullPaidAt``: ``now`` when the paid payments first reach ``totalSumm``.

    The account computes it; the exact rule is the sandbox's assumption [U]:
    set once the paid sum reaches a positive ``totalSumm`` (kept as it was while
    it stays there), gone again (the body leaves the key out, as it does any
    null) when the paid sum falls below the total (a payment deleted or set
    back to unpaid, or the order grew).
    """
    total = _number(order.get("totalSumm"))
    if total > 0 and paid_sum(order) >= total - 0.005:
        order["fullPaidAt"] = order.get("fullPaidAt") or now
    else:
        order.pop("fullPaidAt", None)


def _item(item: dict, item_id: int, created_at: str) -> dict:
    price = _number(item.get("initialPrice"))
    quantity = _number(item.get("quantity"), 1)
    discount = (
        _number(item.get("discountManualAmount"))
        + price * _number(item.get("discountManualPercent")) / 100
    )
    return {
        "vatRate": "none",
        "properties": [],
        "purchasePrice": 0,
        "offer": {},
        **item,
        "id": item_id,
        "createdAt": created_at,
        "initialPrice": price,
        "quantity": quantity,
        "discountTotal": _money(discount),
        "prices": [{"price": _money(price - discount), "quantity": quantity}],
    }


def _number(value: Any, default: float = 0) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _money(value: float) -> float:
    return round(value, 2)
