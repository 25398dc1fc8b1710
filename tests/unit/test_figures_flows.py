"""The customer's figures through the order and purchase-history flows, with K = 2 live entries.

A purchase folded into the customer's settled totals that changes later — an
order completed then cancelled, a completed order's total edited in 1C, a
receipt planned again or corrected — counts exactly once; figures written
before entries were folded are taken over without counting anything twice.
"""

from __future__ import annotations

import pytest

from syncd.flows import figures
from tests.support.flows import FlowBench, crm_order, erp_order, receipt

PARTNER = "6e37f0f0-5d91-4687-a3c4-c79ee22a9157"
REFS = [f"{i:08d}-0000-4000-8000-000000000000" for i in range(1, 5)]
DAYS = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]
TOTALS = [1000.0, 2000.5, 3000.0, 4000.25]
PHONE = "+79123456789"


@pytest.fixture
def bench(tmp_path):
    b = FlowBench(tmp_path, live_entries=2)
    yield b
    b.close()


def four_completed_orders(bench: FlowBench) -> None:
    bench.partner(PARTNER, "Петрова Анна", "+79160000001")
    for ref, total, day in zip(REFS, TOTALS, DAYS, strict=True):
        bench.add(erp_order(ref, 1, "НеСогласован", total, day, PARTNER, agreed=False))
    bench.plan()
    for ref, total, day in zip(REFS, TOTALS, DAYS, strict=True):
        bench.add(erp_order(ref, 2, "Закрыт", total, day, PARTNER))
    bench.plan()


def identity_of(bench: FlowBench, ref: str) -> str:
    return str(bench.facts("erp", "order", ref)["figures"]["customer"])


def test_orders_beyond_k_are_folded_and_every_one_counts(bench):
    four_completed_orders(bench)
    figs = bench.facts("identity", "customer", identity_of(bench, REFS[0]))
    assert set(figs["online"]) == {REFS[2], REFS[3]}  # the two newest stay live
    assert figs["settled"]["done"] == 2 and figs["settled"]["online"] == 2
    fields = bench.customer_fields(PARTNER)
    assert fields["online_orders"] == 4 and fields["redemption_rate"] == 1.0
    assert fields["ltv"] == sum(TOTALS) and fields["last_purchase"] == DAYS[3]
    assert fields["average_check"] == round(sum(TOTALS) / 4, 2)
    # each order recorded what it counts for, in its own facts
    assert bench.facts("erp", "order", REFS[0])["figures"] == {
        "stage": "complete",
        "total": TOTALS[0],
        "at": DAYS[0],
        "customer": int(identity_of(bench, REFS[0])),
    }


def test_a_folded_order_cancelled_in_the_crm_leaves_the_figures_once(bench):
    four_completed_orders(bench)
    bench.add(crm_order(REFS[0], crm_id=501, history_id=900, status="cancel-other"))
    bench.plan()
    fields = bench.customer_fields(PARTNER)
    assert fields["online_orders"] == 4
    assert fields["redemption_rate"] == 0.75
    assert fields["ltv"] == sum(TOTALS[1:])
    assert fields["average_check"] == round(sum(TOTALS[1:]) / 3, 2)
    assert bench.facts("erp", "order", REFS[0])["figures"]["stage"] == "cancelled"
    # and nothing moves when every stored change is planned again
    bench.replay()
    assert bench.customer_fields(PARTNER) == fields


def test_a_late_edit_of_a_folded_completed_orders_total_counts_once(bench):
    four_completed_orders(bench)
    bench.add(erp_order(REFS[1], 3, "Закрыт", 2500.0, DAYS[1], PARTNER))
    bench.plan()
    fields = bench.customer_fields(PARTNER)
    ltv = TOTALS[0] + 2500.0 + TOTALS[2] + TOTALS[3]
    assert fields["ltv"] == ltv and fields["online_orders"] == 4
    assert fields["average_check"] == round(ltv / 4, 2)
    assert bench.facts("erp", "order", REFS[1])["figures"]["total"] == 2500.0


def test_the_last_purchase_falls_back_when_the_newest_orders_are_cancelled(bench):
    four_completed_orders(bench)
    for crm_id, ref in enumerate(REFS[1:], start=502):
        bench.add(crm_order(ref, crm_id=crm_id, history_id=900 + crm_id, status="cancel-other"))
    bench.plan()
    fields = bench.customer_fields(PARTNER)
    assert fields["last_purchase"] == DAYS[0] and fields["ltv"] == TOTALS[0]
    assert fields["redemption_rate"] == 0.25


def test_a_receipt_planned_again_or_corrected_after_it_was_folded_counts_once(bench):
    for i, day in enumerate(DAYS):
        bench.add(receipt(f"R{i}", 100.0 * (i + 1), day, PHONE))
    bench.plan()
    record = bench.facts("crm", "order", "pos-msk-R0")
    identity = str(record["figures"]["customer"])
    figs = bench.facts("identity", "customer", identity)
    assert set(figs["offline"]) == {"msk:R2", "msk:R3"} and figs["settled"]["receipts"] == 2
    external = f"syncd-{identity}"
    assert bench.customer_fields(external)["offline_orders"] == 4
    assert bench.customer_fields(external)["ltv"] == 1000.0

    bench.replay()  # every receipt planned again: R0 and R1 are folded
    assert bench.customer_fields(external)["offline_orders"] == 4
    assert bench.customer_fields(external)["ltv"] == 1000.0

    # R0 corrected in the export: same receipt, another amount, a new version
    bench.add(receipt("R0", 150.0, DAYS[0], PHONE, version="2"))
    bench.plan()
    fields = bench.customer_fields(external)
    assert fields["offline_orders"] == 4 and fields["ltv"] == 1050.0
    assert fields["average_check"] == 262.5 and fields["last_purchase"] == DAYS[3]
    assert bench.facts("crm", "order", "pos-msk-R0")["figures"]["total"] == 150.0


def test_figures_written_before_folding_are_taken_over_without_counting_twice(bench, tmp_path):
    bench.use(live_entries=100)  # as before: every order live
    four_completed_orders(bench)
    identity = identity_of(bench, REFS[0])
    # what syncd kept before: every entry live, no settled totals, no records
    figs = bench.facts("identity", "customer", identity)
    legacy = {"online": figs["online"]}
    remember = {("identity", "customer", identity): legacy}
    for ref in REFS:
        facts = bench.facts("erp", "order", ref)
        del facts["figures"]
        remember[("erp", "order", ref)] = facts
    from syncd.store import bindings

    with bench.store.begin() as conn:
        bindings.remember(conn, remember)
    assert figures.is_legacy(legacy)

    bench.use(live_entries=2)
    bench.add(crm_order(REFS[3], crm_id=504, history_id=950, status="cancel-other"))
    bench.plan()  # the first event of the customer records every entry, then folds
    assert all("figures" in bench.facts("erp", "order", ref) for ref in REFS)
    figs = bench.facts("identity", "customer", identity)
    assert len(figs["online"]) == 2 and figs["settled"]["online"] == 2

    bench.add(crm_order(REFS[0], crm_id=501, history_id=951, status="cancel-other"))
    bench.plan()  # REFS[0] was folded when it had no record of its own yet
    fields = bench.customer_fields(PARTNER)
    assert fields["online_orders"] == 4 and fields["redemption_rate"] == 0.5
    assert fields["ltv"] == TOTALS[1] + TOTALS[2]
