"""The order robot's rule: agree a new order by itself, or hand it to an operator.

The retailer's words: an order below a set amount, with no customer comment,
paid, with a delivery address and every item in stock is agreed with no person
("Согласован", then on to 1C for the warehouse); any other order goes to
"Требует согласования" and an operator calls the customer.  ``decide`` checks
each condition ``robot.yaml`` turns on and says, per condition, its value and
where the value came from; the failed ones are the decision's reasons.  Pure:
the order and the stock in, a decision out (the flow writes it).

    decision = decide(rules, RobotOrder.from_crm(body), stock)
    decision.outcome        # "agree" | "needs_agreement"
    decision.reasons        # ["total 12500 is not below 10000", ...]
    decision.in_scope       # False: not an order the robot looks at (status, site...)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol

from syncd.flows.robot_order import RobotOrder
from syncd.mappings.robot import RobotMapping

Outcome = Literal["agree", "needs_agreement"]
COMMENT_SHOWN = 60  # characters of a customer's comment quoted in a reason


class Stock(Protocol):
    """Free stock by 1C, keyed by the CRM offer's externalId and the CRM store code."""

    def available(self, offer: str, store: str | None) -> Decimal | None:
        """What is free of ``offer`` in ``store`` (all stores together when None);
        None when nothing is known of the offer."""


class StockRows:
    """Stock from rows ``{"offer": ..., "store": ..., "available": ...}`` (a file, a test)."""

    def __init__(self, rows: Iterable[dict[str, Any]]) -> None:
        self._by: dict[str, dict[str, Decimal]] = defaultdict(dict)
        for row in rows:
            self._by[str(row["offer"])][str(row["store"])] = Decimal(str(row["available"]))

    def available(self, offer: str, store: str | None) -> Decimal | None:
        stores = self._by.get(offer)
        if stores is None:
            return None
        if store is None:
            return sum(stores.values(), Decimal(0))
        return stores.get(store, Decimal(0))


@dataclass(frozen=True)
class Check:
    condition: str  # a name in robot.yaml's conditions
    ok: bool
    value: str  # what was found, as a person reads it
    source: str  # where it was read
    reason: str = ""  # why it failed ("" when ok)


@dataclass(frozen=True)
class RobotDecision:
    outcome: Outcome
    checks: tuple[Check, ...]
    in_scope: bool
    scope_note: str = ""  # why the robot would not look at this order

    @property
    def reasons(self) -> list[str]:
        return [c.reason for c in self.checks if not c.ok]

    def as_json(self) -> dict[str, Any]:
        return {
            "decision": self.outcome,
            "reasons": self.reasons,
            "in_scope": self.in_scope,
            **({"scope": self.scope_note} if self.scope_note else {}),
            "checks": [
                {"condition": c.condition, "ok": c.ok, "value": c.value, "source": c.source}
                for c in self.checks
            ],
        }


def scope_note(rules: RobotMapping, order: RobotOrder) -> str:
    """Empty when the robot looks at ``order``; else what puts it out of its scope."""
    scope = rules.orders
    if not rules.enabled:
        return "the robot is off (robot.yaml: enabled: false)"
    if order.status != scope.status:
        return f"status {order.status!r}: the robot decides orders in {scope.status!r}"
    for name, value, allowed in (
        ("site", order.site, scope.sites),
        ("orderMethod", order.order_method, scope.order_methods),
        ("orderType", order.order_type, scope.order_types),
    ):
        if allowed and value not in allowed:
            return f"{name} {value!r} is not one of {', '.join(allowed)}"
    return ""


def decide(rules: RobotMapping, order: RobotOrder, stock: Stock) -> RobotDecision:
    """Check every condition turned on; agree only when all hold."""
    on = rules.conditions
    steps: list[tuple[bool, Callable[[], Check]]] = [
        (on.total_below is not None, lambda: _total(order, on.total_below)),
        (on.no_customer_comment, lambda: _comment(order)),
        (on.paid, lambda: _paid(rules, order)),
        (on.address, lambda: _address(rules, order)),
        (on.in_stock, lambda: _in_stock(order, stock)),
    ]
    checks: list[Check] = [check() for enabled, check in steps if enabled]
    if order.problems:  # a body the robot cannot fully read is never agreed by it
        problems = "; ".join(order.problems)
        checks.append(Check("readable", False, problems, "CRM order", f"unreadable: {problems}"))
    outcome: Outcome = "agree" if all(c.ok for c in checks) else "needs_agreement"
    note = scope_note(rules, order)
    return RobotDecision(outcome, tuple(checks), in_scope=not note, scope_note=note)


def _fmt(amount: Decimal | None) -> str:
    return "unknown" if amount is None else f"{amount:f}"


def _total(order: RobotOrder, limit: Decimal | None) -> Check:
    ok = order.total is not None and limit is not None and order.total < limit
    value = f"{_fmt(order.total)} (limit {_fmt(limit)})"
    return Check(
        "total_below", ok, value, "CRM totalSumm",
        "" if ok else f"total {_fmt(order.total)} is not below {_fmt(limit)}",
    )  # fmt: skip


def _comment(order: RobotOrder) -> Check:
    text = order.customer_comment
    ok = not text
    shown = text if len(text) <= COMMENT_SHOWN else text[: COMMENT_SHOWN - 1] + "…"
    return Check(
        "no_customer_comment", ok, shown or "none", "CRM customerComment",
        "" if ok else f"the customer left a comment: {shown!r}",
    )  # fmt: skip


def _paid(rules: RobotMapping, order: RobotOrder) -> Check:
    statuses = rules.payments.paid_statuses
    paid = order.paid_amount(statuses)
    by_crm = order.total is not None and (order.full_paid or paid >= order.total)
    by_erp = rules.payments.erp_paid_percent and (order.erp_paid_percent or 0) >= 100
    value = f"{_fmt(paid)} of {_fmt(order.total)} in payments {', '.join(statuses)}"
    source = "CRM payments"
    if rules.payments.erp_paid_percent:
        value += f"; 1C {_fmt(order.erp_paid_percent)}%"
        source += ", 1C ПроцентОплаты"
    ok = bool(by_crm or by_erp)
    reason = "" if ok else f"paid {_fmt(paid)} of {_fmt(order.total)}"
    return Check("paid", ok, value, source, reason)


def _address(rules: RobotMapping, order: RobotOrder) -> Check:
    if order.delivery_type and order.delivery_type in rules.address.not_needed_for:
        value = f"none needed for delivery {order.delivery_type!r}"
        return Check("address", True, value, "CRM delivery.code")
    ok = bool(order.address)
    return Check(
        "address", ok, order.address or "none", "CRM delivery.address",
        "" if ok else "no delivery address",
    )  # fmt: skip


def _in_stock(order: RobotOrder, stock: Stock) -> Check:
    store = order.shipment_store
    where = f"store {store!r}" if store else "all stores"
    wanted: dict[str, Decimal] = defaultdict(Decimal)
    missing: list[str] = []
    for line in order.lines:
        if line.offer is None or line.quantity is None:
            missing.append(f"line {line.number} has no offer externalId or quantity")
        else:
            wanted[line.offer] += line.quantity
    if not order.lines:
        missing.append("the order has no lines")
    short = []
    for offer, quantity in wanted.items():
        free = stock.available(offer, store)
        if free is None:
            short.append(f"{offer}: no stock known")
        elif free < quantity:
            short.append(f"{offer}: {quantity:f} wanted, {free:f} free")
    problems = missing + short
    ok = not problems
    value = f"{len(wanted)} offer(s) in {where}" + ("" if ok else ": " + "; ".join(problems))
    reason = "" if ok else f"not in stock in {where}: " + "; ".join(problems)
    return Check("in_stock", ok, value, "1C free stock", reason)
