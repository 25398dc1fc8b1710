"""A CRM order as the order robot reads it, from the body the API returns.

Real bodies carry the API's quirks (docs/reference: RetailCRM 1.3): ``payments``
is a map keyed by payment id in ``orders/{id}`` and ``orders`` answers (``{}``
or ``[]`` when empty) and a list in other answers; numbers may come as JSON
numbers or strings; ``delivery.address`` has a free ``text`` and/or parts;
``items[].offer`` names the offer by ``externalId`` (1C's item) when the
catalogue came from 1C.  This reads all of them; what it cannot read stays
``None`` and the condition that needs it fails with that reason.

    order = RobotOrder.from_crm(body)            # body: orders/{id} -> "order"
    order.total, order.paid_amounts(["paid"]), order.lines
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

ADDRESS_PARTS = ("city", "street", "building", "house")


def money(value: Any) -> Decimal | None:
    """A JSON number or numeric string as a Decimal; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


@dataclass(frozen=True)
class Line:
    offer: str | None  # items[].offer.externalId
    quantity: Decimal | None
    number: int  # 1-based, for messages


@dataclass(frozen=True)
class Payment:
    status: str | None
    amount: Decimal | None


@dataclass(frozen=True)
class RobotOrder:
    id: str | None
    status: str | None
    site: str | None
    order_method: str | None
    order_type: str | None
    total: Decimal | None
    customer_comment: str
    payments: tuple[Payment, ...]
    full_paid: bool  # fullPaidAt is set: the CRM itself counts the order paid
    delivery_type: str | None
    address: str  # the address as one line ("" when none)
    shipment_store: str | None
    lines: tuple[Line, ...]
    erp_paid_percent: Decimal | None = None  # from 1C's order state, when the flow knows it
    problems: tuple[str, ...] = field(default=())  # parts of the body that could not be read

    @classmethod
    def from_crm(cls, body: Mapping[str, Any], erp_paid_percent: Any = None) -> RobotOrder:
        problems: list[str] = []
        delivery = body.get("delivery") if isinstance(body.get("delivery"), dict) else {}
        total = money(body.get("totalSumm"))
        if total is None:
            problems.append(f"totalSumm {body.get('totalSumm')!r} is not a number")
        return cls(
            id=_text(body.get("id")) or None,
            status=_text(body.get("status")) or None,
            site=_text(body.get("site")) or None,
            order_method=_text(body.get("orderMethod")) or None,
            order_type=_text(body.get("orderType")) or None,
            total=total,
            customer_comment=_text(body.get("customerComment")).strip(),
            payments=tuple(_payments(body.get("payments"), problems)),
            full_paid=bool(body.get("fullPaidAt")),
            delivery_type=_text(delivery.get("code")) or None,
            address=_address(delivery.get("address")),
            shipment_store=_text(body.get("shipmentStore")) or None,
            lines=tuple(_lines(body.get("items"), problems)),
            erp_paid_percent=money(erp_paid_percent),
            problems=tuple(problems),
        )

    def paid_amount(self, paid_statuses: Iterable[str]) -> Decimal:
        """The sum of the payments whose status counts as money received."""
        counted = set(paid_statuses)
        return sum(
            (p.amount for p in self.payments if p.status in counted and p.amount is not None),
            Decimal(0),
        )


def _text(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value)


def _objects(value: Any, what: str, problems: list[str]) -> Iterable[tuple[int, dict]]:
    """A list of objects as the API gives one: a list, a map keyed by id, or empty in
    either shape; each with its 1-based number.  What is not an object is a problem."""
    if value is None:
        return
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list):
        problems.append(f"{what}s is a {type(value).__name__}, not a map or a list")
        return
    for number, item in enumerate(value, 1):
        if isinstance(item, dict):
            yield number, item
        else:
            problems.append(f"{what} {number} is not an object")


def _payments(value: Any, problems: list[str]) -> Iterable[Payment]:
    for _, p in _objects(value, "payment", problems):
        status = p.get("status")
        status = status.get("code") if isinstance(status, dict) else status
        yield Payment(_text(status) or None, money(p.get("amount")))


def _address(value: Any) -> str:
    """The address as one line: its text, else its main parts joined."""
    if isinstance(value, str):
        return value.strip()
    if not isinstance(value, dict):
        return ""
    text = _text(value.get("text")).strip()
    if text:
        return text
    parts = [_text(value.get(k)).strip() for k in ADDRESS_PARTS]
    return ", ".join(p for p in parts if p)


def _lines(value: Any, problems: list[str]) -> Iterable[Line]:
    for number, item in _objects(value, "item", problems):
        offer = item.get("offer") if isinstance(item.get("offer"), dict) else {}
        yield Line(_text(offer.get("externalId")) or None, money(item.get("quantity")), number)
