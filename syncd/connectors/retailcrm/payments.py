"""An order's payments in RetailCRM: create, edit, delete, and the payment references.

``orders/payments/create`` takes ``payment=<json {order: {id | externalId |
number}, type, status, amount, paidAt, comment, externalId}>`` and answers
201 ``{success, id}``; ``orders/payments/{id}/edit`` addresses the payment
``by`` its ``id`` or its ``externalId`` (shared/reference/retailcrm-api.md
§2.1).  The CRM recomputes ``prepaySum`` and ``fullPaidAt`` itself.

Idempotency: a payment carries an ``externalId``; give one (e.g. the 1C
payment document's Ref_Key) and a repeated create is refused as a duplicate
rather than doubling the money (the official 1C module once doubled payments
for lack of it, §4.5) — then ``edit_payment(external_id, …, by="externalId")``.

Mixed into ``CrmClient``; the calls go through its transport (pacing, retries,
typed errors from ``errors``: ``CrmValidationError`` on a refused payment,
``CrmNotFound`` for an unknown one, ``CrmNoAnswer`` when a write got no answer).

    payment_id = crm.create_payment({"externalId": "A-1"}, "bank-card", amount=990,
                                    status="paid", external_id="pay-7")
    crm.edit_payment(payment_id, {"status": "paid", "paidAt": "2026-11-02 10:00:00"})
    crm.payment_statuses()["paid"]["paymentComplete"]   # True
"""

from __future__ import annotations

from typing import Any

from syncd.connectors.retailcrm.transport import CrmTransport

BY = ("id", "externalId")


class PaymentCalls:
    """The payments endpoints, mixed into ``CrmClient`` (its ``t``, ``_site``, ``reference``)."""

    t: CrmTransport

    def create_payment(
        self,
        order: dict,
        payment_type: str,
        *,
        amount: float | None = None,
        status: str | None = None,
        paid_at: str | None = None,
        comment: str | None = None,
        external_id: str | None = None,
        site: str | None = None,
    ) -> int:
        """Add a payment to ``order`` (``{"id": …}``, ``{"externalId": …}`` or
        ``{"number": …}``); the new payment's id.

        ``paid_at`` is ``Y-m-d H:i:s`` in the account's zone.  Without
        ``amount`` or ``status`` the CRM picks them.
        """
        if not any(order.get(k) for k in ("id", "externalId", "number")):
            raise ValueError("order needs one of id, externalId, number")
        payment: dict[str, Any] = {"order": order, "type": payment_type}
        optional = {
            "amount": amount,
            "status": status,
            "paidAt": paid_at,
            "comment": comment,
            "externalId": external_id,
        }
        payment.update({k: v for k, v in optional.items() if v is not None})
        body = self.t.post("orders/payments/create", {"payment": payment, "site": self._site(site)})
        return int(body["id"])

    def edit_payment(
        self, key: int | str, changes: dict, *, by: str = "id", site: str | None = None
    ) -> int:
        """Change a payment's fields (``status``, ``amount``, ``paidAt``, ``comment`` …);
        ``key`` is its ``id`` or, with ``by="externalId"``, its externalId.  Its id."""
        if by not in BY:
            raise ValueError(f"by must be one of {BY}, not {by!r}")
        fields = {"payment": changes, "by": by, "site": self._site(site)}
        return int(self.t.post(f"orders/payments/{key}/edit", fields)["id"])

    def delete_payment(self, payment_id: int) -> None:
        """Remove a payment from its order."""
        self.t.post(f"orders/payments/{payment_id}/delete", {})

    def payment_statuses(self) -> dict[str, dict]:
        """``reference/payment-statuses`` by code (``paymentComplete``: money received)."""
        return self.reference("payment-statuses", "paymentStatuses")

    def payment_types(self) -> dict[str, dict]:
        """``reference/payment-types`` by code, each with the ``paymentStatuses`` it allows."""
        return self.reference("payment-types", "paymentTypes")
