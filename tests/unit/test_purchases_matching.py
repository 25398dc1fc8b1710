"""The daemon's purchase history with customers.yaml ``matching``: by keys, or by the model."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from syncd.store.schema import outbox
from tests.support.flows import FlowBench, receipt

DAY = "2026-11-01"
ANNA = {"phone": "+79123456789", "email": "", "card": "4276380012345678", "name": "Петрова Анна",
        "birth_date": "07.03.1985"}  # fmt: skip
# the next visit: no phone given, the cashier swapped the card's last two digits
AGAIN = {**ANNA, "phone": "", "card": "4276380012345687"}


def customer_of(bench: FlowBench, receipt_id: str) -> str:
    """The CRM customer the receipt's order was queued for."""
    with bench.store.read() as conn:
        payload = conn.execute(
            select(outbox.c.payload).where(
                outbox.c.entity == "order", outbox.c.object_id == f"pos-msk-{receipt_id}"
            )
        ).scalar_one()
    return json.loads(payload)["customer"]["externalId"]


@pytest.mark.parametrize("matching, one", [("model", True), ("keys", False)])
def test_a_mistyped_card_is_the_same_customer_only_by_the_model(tmp_path, matching, one):
    bench = FlowBench(tmp_path, live_entries=5, matching=matching)
    try:
        bench.add(receipt("R1", 100.0, DAY, "", buyer=ANNA))
        bench.plan()
        bench.add(receipt("R2", 200.0, DAY, "", buyer=AGAIN))
        bench.plan()
        assert (customer_of(bench, "R1") == customer_of(bench, "R2")) is one
    finally:
        bench.close()


def test_the_buyers_birth_date_reaches_the_crm_customer_only_when_it_is_a_real_day(tmp_path):
    bench = FlowBench(tmp_path, live_entries=5)
    try:
        bench.add(receipt("R1", 100.0, DAY, "", buyer=ANNA))
        other = {**ANNA, "phone": "+79160000001", "card": "", "birth_date": "31.13.1985"}
        bench.add(receipt("R2", 100.0, DAY, "", buyer=other))
        bench.plan()
        with bench.store.read() as conn:
            customers = [
                json.loads(p)["customer"]
                for p in conn.execute(
                    select(outbox.c.payload).where(outbox.c.entity == "customer")
                ).scalars()
            ]
    finally:
        bench.close()
    assert sorted(c.get("birthday", "") for c in customers) == ["", "1985-03-07"]
