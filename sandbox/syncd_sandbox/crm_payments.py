"""An order's payments in the sandbox CRM: the payments endpoints and how answers show them.

After shared/reference/retailcrm-api.md §1.3, §2.1, §3, §4.2–4.3 and the
official PHP client's recorded bodies (``OrdersTest``):

- ``POST orders/payments/create`` with ``payment=<json {order: {id |
  externalId | number}, type, status, amount, paidAt, comment,
  externalId}>`` and ``site`` answers 201 ``{success, id}``;
- ``POST orders/payments/{id}/edit`` (``by=id|externalId``) answers
  ``{success, id}``; ``POST orders/payments/{id}/delete`` ``{success}``;
- each is an edit of the order, so history records it the history's way
  (``crm_changes``): ``payments`` with ``{id, type}`` / ``null`` when a
  payment is added or deleted, ``payments.status`` (``{code}``),
  ``payments.amount``, ``payments.paid_at`` … with the ``payment`` stub, and
  ``full_paid_at`` when the paid payments reach the total (``crm_bodies``);
- ``payments`` in answers: a JSON list in create and upload answers and in
  history's created records, but a map keyed by payment id in GET
  ``orders/{id}``, the orders list and edit answers — an empty one ``{}`` in
  the list (recorded) and ``[]`` in a single order's answer (PHP's empty
  array; not recorded).

Assumptions, not recorded answers [U]: ``by`` defaults to ``id``; a missing
``amount`` is the order's ``totalSumm``; a missing ``status`` is
``not-paid``; an unknown order is refused 400 naming ``order``; a payment
``externalId`` is unique in the account; a type or a status the account
does not know, or one the type does not allow, is refused 400.

    payment = create_payment(state, {"order": {"externalId": "A-1"}, "type": "cash"}, None, key)
    edit_payment(state, "41", "id", {"status": "paid"}, None, key)
    body = order_answer(order, "get")   # payments keyed by id
"""

from __future__ import annotations

import copy
from typing import Literal

from syncd_sandbox.crm_references import PAYMENT_STATUSES, PAYMENT_TYPES
from syncd_sandbox.crm_state import CrmRefusal, CrmState

AnswerKind = Literal["get", "list", "edit", "create"]
PAYMENT_FIELDS = ("type", "status", "amount", "paidAt", "comment", "externalId")
ENTITY_FORMAT = "Errors in the entity format"


def order_answer(order: dict, kind: AnswerKind) -> dict:
    """A copy of ``order`` with ``payments`` in the form answers of ``kind`` carry."""
    body = copy.deepcopy(order)
    if kind == "create":
        return body
    payments = {str(p["id"]): p for p in body.get("payments") or []}
    if payments:
        body["payments"] = payments
    else:
        body["payments"] = {} if kind == "list" else []
    return body


def create_payment(state: CrmState, data: dict, site: str | None, author: str) -> dict:
    """Add a payment to the order ``data["order"]`` names; the payment as kept, with its id."""
    with state.lock:
        order = _order_named(state, data.get("order"), site)
        fields = {k: copy.deepcopy(data[k]) for k in PAYMENT_FIELDS if k in data}
        if not fields.get("type"):
            raise CrmRefusal(400, ENTITY_FORMAT, {"type": "This value should not be blank."})
        fields.setdefault("status", "not-paid")
        fields.setdefault("amount", order.get("totalSumm", 0))
        _check(state, fields, None)
        known = {p["id"] for p in order["payments"]}
        state.edit("order", order, {"payments": [*order["payments"], fields]}, author)
        return next(p for p in order["payments"] if p["id"] not in known)


def edit_payment(
    state: CrmState, key: str, by: str, changes: dict, site: str | None, author: str
) -> dict:
    """Change the fields of one payment (found by id or externalId); the payment after."""
    with state.lock:
        order, payment = _payment(state, key, by)
        fields = {k: copy.deepcopy(changes[k]) for k in PAYMENT_FIELDS if k in changes}
        _check(state, {**payment, **fields}, payment["id"])
        rows = [{**p, **fields} if p["id"] == payment["id"] else p for p in order["payments"]]
        state.edit("order", order, {"payments": rows}, author)
        return next(p for p in order["payments"] if p["id"] == payment["id"])


def delete_payment(state: CrmState, key: str, author: str) -> None:
    """Remove one payment (by id) from its order."""
    with state.lock:
        order, payment = _payment(state, key, "id")
        rows = [p for p in order["payments"] if p["id"] != payment["id"]]
        state.edit("order", order, {"payments": rows}, author)


def _order_named(state: CrmState, reference: object, site: str | None) -> dict:
    """The order ``{id}``, ``{externalId}`` or ``{number}`` names."""
    if not isinstance(reference, dict) or not (
        reference.get("id") or reference.get("externalId") or reference.get("number")
    ):
        why = "Set one of the following fields: id, externalId, number"
        raise CrmRefusal(400, ENTITY_FORMAT, {"order": why})
    if reference.get("id"):
        found = state.find("order", str(reference["id"]), "id", None)
    elif reference.get("externalId"):
        if site is None and len(state.sites) > 1:
            why = "The site parameter is required"
            raise CrmRefusal(400, "Errors in the input parameters", {"site": why})
        found = state.find("order", str(reference["externalId"]), "externalId", site)
    else:
        number = str(reference["number"])
        found = next((o for o in state.records["order"].values() if o["number"] == number), None)
    if found is None:
        raise CrmRefusal(400, ENTITY_FORMAT, {"order": f"Order {_named(reference)} not found"})
    return found


def _payment(state: CrmState, key: str, by: str) -> tuple[dict, dict]:
    if by not in ("id", "externalId"):
        raise CrmRefusal(400, "Errors in the input parameters", {"by": "Value is not valid"})
    for order in state.records["order"].values():
        for payment in order["payments"]:
            value = payment["id"] if by == "id" else payment.get("externalId")
            if value is not None and str(value) == str(key):
                return order, payment
    raise CrmRefusal(404, "Not found")


def _check(state: CrmState, payment: dict, own_id: int | None) -> None:
    """Refuse a type or status the account lacks, or an externalId another payment has."""
    kind, status = payment.get("type"), payment.get("status")
    if kind not in PAYMENT_TYPES:
        raise CrmRefusal(400, ENTITY_FORMAT, {"type": f"Payment type '{kind}' does not exist"})
    if status not in PAYMENT_STATUSES or status not in PAYMENT_TYPES[kind][1]:
        why = f"Payment status '{status}' is not available for the type '{kind}'"
        raise CrmRefusal(400, ENTITY_FORMAT, {"status": why})
    ext = payment.get("externalId")
    if ext:
        for order in state.records["order"].values():
            for other in order["payments"]:
                if other.get("externalId") == ext and other["id"] != own_id:
                    raise CrmRefusal(400, f"Payment with externalId={ext} already exists.")


def _named(reference: dict) -> str:
    for key in ("id", "externalId", "number"):
        if reference.get(key):
            return f"with {key}={reference[key]}"
    return ""
