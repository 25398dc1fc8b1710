"""The order robot's rule: each of the seed's five conditions, on real CRM order bodies."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from syncd.flows.order_robot import decide
from syncd.flows.robot_order import RobotOrder
from syncd.mappings.robot import RobotMapping
from tests.support.robot import agreeable, stock, without


def rules(**changes) -> RobotMapping:
    data = {"outcomes": {"needs_agreement": "requires-agreement"}}
    for key, value in changes.items():
        data.setdefault(key, {}).update(value)
    return RobotMapping.model_validate(data)


def decided(body: dict, robot: RobotMapping | None = None, **kw):  # noqa: ANN202
    return decide(robot or rules(), RobotOrder.from_crm(body, **kw), stock())


def test_an_order_meeting_all_five_conditions_is_agreed():
    decision = decided(agreeable())
    assert decision.outcome == "agree" and decision.reasons == [] and decision.in_scope
    assert [c.condition for c in decision.checks] == [
        "total_below", "no_customer_comment", "paid", "address", "in_stock",
    ]  # fmt: skip
    assert all(c.ok for c in decision.checks)


@pytest.mark.parametrize(
    ("condition", "reason"),
    [
        ("total_below", "total 10000 is not below 10000"),
        ("no_customer_comment", "the customer left a comment: 'Позвоните перед доставкой, "),
        ("paid", "paid 0 of 3450"),
        ("address", "no delivery address"),
        ("in_stock", "not in stock in store 'main-warehouse': nom-0c42: 2 wanted, 1 free"),
    ],
)
def test_an_order_failing_one_condition_needs_agreement_with_that_reason(condition, reason):
    decision = decided(without(agreeable(), condition))
    assert decision.outcome == "needs_agreement"
    (failed,) = decision.reasons
    assert failed.startswith(reason)
    assert [c.condition for c in decision.checks if not c.ok] == [condition]


def test_every_failed_condition_is_a_reason():
    body = agreeable()
    for condition in ("total_below", "no_customer_comment", "address"):
        body = without(body, condition)
    decision = decided(body)
    assert [c.condition for c in decision.checks if not c.ok] == [
        "total_below", "no_customer_comment", "address",
    ]  # fmt: skip
    assert len(decision.reasons) == 3 and decision.outcome == "needs_agreement"


def test_a_condition_turned_off_is_not_checked():
    robot = rules(conditions={"total_below": None, "no_customer_comment": False})
    body = without(without(agreeable(), "total_below"), "no_customer_comment")
    decision = decided(body, robot)
    assert decision.outcome == "agree"
    assert [c.condition for c in decision.checks] == ["paid", "address", "in_stock"]


@pytest.mark.parametrize("shape", ["map", "list", "map_of_two", "empty_map", "empty_list"])
def test_payments_are_read_in_either_shape_the_api_answers(shape):
    body = agreeable()
    payment = body["payments"]["3307"]
    half = {**payment, "id": 3308, "amount": 1725}
    body["payments"] = {
        "map": {"3307": payment},
        "list": [payment],
        "map_of_two": {"3307": {**payment, "amount": 1725}, "3308": half},
        "empty_map": {},
        "empty_list": [],
    }[shape]
    paid = decided(body).checks[2]
    assert paid.ok == (shape not in ("empty_map", "empty_list"))


def test_only_payments_in_a_paid_status_count_and_full_paid_at_settles_it():
    body = agreeable()
    body["payments"] = {
        "1": {"id": 1, "status": "paid", "amount": 3000},
        "2": {"id": 2, "status": "not-paid", "amount": 450},
    }
    assert decided(body).reasons == ["paid 3000 of 3450"]
    robot = rules(payments={"paid_statuses": ["paid", "not-paid"]})
    assert decided(body, robot).outcome == "agree"
    body["fullPaidAt"] = "2026-10-14 11:44:10"  # the CRM counts it paid
    assert decided(body).outcome == "agree"


def test_1cs_payment_state_counts_only_where_configured():
    body = without(agreeable(), "paid")
    assert decided(body, erp_paid_percent=100).outcome == "needs_agreement"
    robot = rules(payments={"erp_paid_percent": True})
    assert decided(body, robot, erp_paid_percent="100").outcome == "agree"
    assert decided(body, robot, erp_paid_percent=50).reasons == ["paid 0 of 3450"]


def test_an_address_in_parts_counts_and_pickup_needs_none():
    body = agreeable()
    body["delivery"]["address"] = {"city": "Москва", "street": "Тверская", "building": "7"}
    assert decided(body).checks[3].value == "Москва, Тверская, 7"
    del body["delivery"]["address"]
    assert decided(body).reasons == ["no delivery address"]
    body["delivery"]["code"] = "self-delivery"
    assert decided(body, rules(address={"not_needed_for": ["self-delivery"]})).outcome == "agree"


def test_stock_is_the_shipment_stores_or_all_stores_together():
    body = agreeable()
    body["items"][1]["quantity"] = 5  # 1 free in main-warehouse, 4 in shop-12
    assert decided(body).outcome == "needs_agreement"
    del body["shipmentStore"]
    assert decided(body).outcome == "agree"
    body["items"][1]["quantity"] = 6
    assert decided(body).reasons == ["not in stock in all stores: nom-0c42: 6 wanted, 5 free"]


def test_lines_of_one_offer_are_added_up_and_an_unknown_offer_is_not_in_stock():
    body = agreeable()
    body["items"].append(copy.deepcopy(body["items"][0]))  # 2 + 2 of nom-0c41, 5 free
    assert decided(body).outcome == "agree"
    body["items"].append(copy.deepcopy(body["items"][0]))  # 6
    assert "nom-0c41: 6 wanted, 5 free" in decided(body).reasons[0]
    body["items"][0]["offer"] = {"id": 1, "externalId": "nom-unknown"}
    assert "nom-unknown: no stock known" in decided(body).reasons[0]


def test_a_line_without_an_offer_external_id_or_an_order_without_lines_is_not_in_stock():
    body = agreeable()
    del body["items"][0]["offer"]["externalId"]
    assert "line 1 has no offer externalId or quantity" in decided(body).reasons[0]
    body["items"] = []
    assert "the order has no lines" in decided(body).reasons[0]


def test_a_body_it_cannot_read_is_never_agreed():
    body = agreeable()
    body["totalSumm"] = "n/a"
    decision = decided(body, rules(conditions={"total_below": None}))
    assert decision.outcome == "needs_agreement"
    assert decision.reasons[-1] == "unreadable: totalSumm 'n/a' is not a number"
    body = agreeable()
    body["payments"] = "paid"
    assert "payments is a str" in decided(body).reasons[-1]


def test_amounts_given_as_strings_are_read_exactly():
    body = agreeable()
    body["totalSumm"] = "9999.99"
    body["payments"]["3307"]["amount"] = "9999.99"
    decision = decided(body)
    assert decision.outcome == "agree"
    assert RobotOrder.from_crm(body).total == Decimal("9999.99")


@pytest.mark.parametrize(
    ("change", "scope"),
    [
        ({"status": "client-confirmed"}, "status 'client-confirmed': the robot decides orders"),
        ({"site": "b2b"}, "site 'b2b' is not one of online-shop"),
        ({"orderMethod": "phone"}, "orderMethod 'phone' is not one of shopping-cart"),
    ],
)
def test_an_order_out_of_its_scope_is_marked_so(change, scope):
    robot = rules(orders={"sites": ["online-shop"], "order_methods": ["shopping-cart"]})
    assert decided(agreeable(), robot).in_scope
    decision = decided({**agreeable(), **change}, robot)
    assert not decision.in_scope and decision.scope_note.startswith(scope)


def test_a_disabled_robot_looks_at_nothing():
    decision = decided(agreeable(), RobotMapping.model_validate(
        {"enabled": False, "outcomes": {"needs_agreement": "requires-agreement"}}
    ))  # fmt: skip
    assert not decision.in_scope and "off" in decision.scope_note


def test_the_decision_as_json_lists_each_conditions_value_and_source():
    out = decided(without(agreeable(), "paid")).as_json()
    assert out["decision"] == "needs_agreement" and out["reasons"] == ["paid 0 of 3450"]
    paid = next(c for c in out["checks"] if c["condition"] == "paid")
    assert paid == {
        "condition": "paid", "ok": False, "value": "0 of 3450 in payments paid",
        "source": "CRM payments",
    }  # fmt: skip
