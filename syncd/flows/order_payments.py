"""The CRM's payments, carried to a 1C order field so the warehouse sees prepaid orders.

Off unless orders.yaml names the field (``payments_to_erp``).  The CRM order's
payments (a map keyed by payment id or a list, amounts as numbers or strings:
read by ``robot_order``) become one value — ``flag``: the payments whose
status counts as paid cover the order's total (or the CRM marked it fully
paid, ``fullPaidAt``); ``amount``: the sum of those payments — and that value
is one more mapped field of the order, going from the CRM to 1C only
(``PAID``, an ``erp`` field, ``crm_to_erp``, the CRM owns it).  So the order
rules copy it as they copy any field: written to 1C when the CRM's payments
change it, never read back into the CRM, and an echo is nothing new.

    fm = paid_field(orders)            # FieldMap or None
    crm_fields[PAID] = paid_value(order_body, orders.payments_to_erp)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syncd.flows.robot_order import RobotOrder
from syncd.mappings.model import FieldMap, OrdersMapping, PaymentsToErp

# the field's name among the order's fields: no CRM field has a colon in its path,
# so it can never be read from or written to the CRM order by the usual mapping
PAID = "payments:paid"


def paid_field(orders: OrdersMapping) -> FieldMap | None:
    """The mapped field the payments travel as, or None when the mapping names none."""
    to_erp = orders.payments_to_erp
    if to_erp is None:
        return None
    transform = "money" if to_erp.value == "amount" else "text"
    return FieldMap(erp=to_erp.field, crm=PAID, transform=transform, direction="crm_to_erp")


def with_paid_field(orders: OrdersMapping) -> OrdersMapping:
    """``orders`` with the payments' field among its fields (itself when there is none)."""
    fm = paid_field(orders)
    if fm is None:
        return orders
    return orders.model_copy(update={"fields": [*orders.fields, fm]})


def paid_value(order: Mapping[str, Any], to_erp: PaymentsToErp) -> bool | float:
    """What the CRM order's payments say, in the form the 1C field takes."""
    read = RobotOrder.from_crm(order)
    paid = read.paid_amount(to_erp.paid_statuses)
    if to_erp.value == "amount":
        return round(float(paid), 2)
    covered = read.total is not None and read.total > 0 and paid >= read.total
    return bool(covered or read.full_paid)


def unpaid_value(to_erp: PaymentsToErp) -> bool | float:
    """The field's value on an order nobody has paid (a new 1C order's default)."""
    return 0.0 if to_erp.value == "amount" else False
