"""``robot.yaml``: the order robot's rules, declared once (model and JSON Schema).

The robot looks at new CRM orders and agrees an order by itself when every
condition holds; otherwise the order goes to a "needs agreement" status and an
operator calls the customer.  When the operator cannot reach the customer
("Недозвон"), the call chain brings the order back after a while, and cancels
it at the last missed call (``call_chain``).  The file says which orders it looks at, which
conditions it checks (each can be turned off) and the two CRM status codes it
sets.  Without the file the robot is off.

    rules = load_one(Path("mappings/robot.yaml"), RobotMapping)
    rules.conditions.total_below          # Decimal("10000") or None (not checked)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

from syncd.mappings.model import _Strict

CONDITIONS = ("total_below", "no_customer_comment", "paid", "address", "in_stock")


class RobotScope(_Strict):
    status: str = Field("new", description="the CRM status the robot's orders wait in")
    sites: list[str] = Field(default_factory=list, description="CRM site codes (none: all)")
    order_methods: list[str] = Field(
        default_factory=list, description="CRM orderMethod codes (none: all)"
    )
    order_types: list[str] = Field(
        default_factory=list, description="CRM orderType codes (none: all)"
    )


class RobotConditions(_Strict):
    total_below: Decimal | None = Field(
        Decimal("10000"),
        gt=0,
        description="the order's total (totalSumm) must be below this amount (null: any total)",
    )
    no_customer_comment: bool = Field(True, description="the customer left no comment")
    paid: bool = Field(True, description="the order is paid in full (see payments)")
    address: bool = Field(True, description="a delivery address is given")
    in_stock: bool = Field(
        True,
        description="every line is available in the order's shipment store (all stores "
        "together when the order names none), by 1C's free stock",
    )


class RobotPayments(_Strict):
    paid_statuses: list[str] = Field(
        default_factory=lambda: ["paid"],
        min_length=1,
        description="CRM payment status codes that count as money received",
    )
    erp_paid_percent: bool = Field(
        False,
        description="also count the order as paid when 1C's order state says 100% paid "
        "(ПроцентОплаты); off: the CRM's payments alone",
    )


class RobotAddress(_Strict):
    not_needed_for: list[str] = Field(
        default_factory=list,
        description="CRM delivery type codes that need no address (pickup, e.g. self-delivery)",
    )


class RobotOutcomes(_Strict):
    agreed: str = Field(
        "client-confirmed", description="CRM status of an order the robot agrees (Согласован)"
    )
    needs_agreement: str = Field(
        ...,
        description="CRM status of an order an operator must agree by phone (Требует "
        "согласования): a status the account adds itself, so its code must be given",
    )
    reasons_to: Literal["manager_comment", "status_comment", "custom_field", "none"] = Field(
        "status_comment",
        description="where the robot writes why it did not agree an order: the order's "
        "status comment, its manager comment, a custom field (custom_field_code), or nowhere",
    )
    custom_field_code: str | None = Field(
        None, description="the CRM custom field of the reasons, with reasons_to: custom_field"
    )


class ChainReminder(_Strict):
    task: bool = Field(
        True,
        description="make a CRM task for the order's manager when the order comes back "
        "(no task when the order has no manager)",
    )
    text: str = Field(
        "Перезвоните клиенту: заказ {number}, недозвон {attempt} из {attempts}",
        min_length=1,
        description="the task's text; {number}, {attempt} and {attempts} are filled in",
    )
    custom_field: str | None = Field(
        None,
        description="also set this CRM order custom field to the number of missed calls, "
        "for the account's own triggers (e.g. a notification); null: none",
    )


class CallChain(_Strict):
    enabled: bool = Field(True, description="false: a no-answer status is left to people")
    no_answer_status: str = Field("no-call", description="the CRM status operators set (Недозвон)")
    return_after_seconds: int = Field(
        10800, ge=60, description="how long after a no-answer the order comes back (3 h)"
    )
    return_status: str | None = Field(
        None,
        description="the status the order comes back to; null: outcomes.needs_agreement",
    )
    cancel_at: int = Field(
        4, ge=1, description="the no-answer that cancels the order (the 4th: three returns)"
    )
    cancel_status: str = Field(
        "cancel-other",
        description="the CRM status of an order cancelled for want of an answer; it must "
        "map to a terminal stage, so that the cancellation reaches 1C",
    )
    reminder: ChainReminder = Field(default_factory=ChainReminder)


class RobotMapping(_Strict):
    enabled: bool = Field(True, description="false: the robot decides nothing")
    orders: RobotScope = Field(default_factory=RobotScope)
    conditions: RobotConditions = Field(default_factory=RobotConditions)
    payments: RobotPayments = Field(default_factory=RobotPayments)
    address: RobotAddress = Field(default_factory=RobotAddress)
    outcomes: RobotOutcomes
    call_chain: CallChain = Field(
        default_factory=CallChain,
        description="the no-answer call chain: return the order to the operators after a "
        "missed call, cancel it at the last",
    )

    @property
    def return_status(self) -> str:
        """Where the call chain hands an order back to the operators."""
        return self.call_chain.return_status or self.outcomes.needs_agreement
