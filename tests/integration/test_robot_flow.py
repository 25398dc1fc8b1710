"""The order robot in the pipeline: each new order decided once, never over a person."""

from __future__ import annotations

import copy

import pytest

from syncd.mappings.robot import CONDITIONS
from tests.support.robot import agreeable, without
from tests.support.robot_flows import RobotFlows, crm_event

STOCK = [("nom-0c41", "main-warehouse", 5), ("nom-0c42", "main-warehouse", 1)]


@pytest.fixture
def flows(tmp_path):
    bench = RobotFlows(tmp_path)
    bench.stock(STOCK)
    yield bench
    bench.close()


def test_an_order_meeting_every_condition_is_agreed_while_still_new(flows):
    body = agreeable()
    flows.add(crm_event(body, 901, entity="order_created"))
    (move,) = flows.moves(body["externalId"])
    assert move["status"] == "client-confirmed"
    assert move["expect"] == ["new"]  # never over a person's status
    assert move["robot"]["outcome"] == "agree" and move["robot"]["failed"] == []
    assert move["robot"]["created_at"] is not None
    decided = flows.facts("robot", body["externalId"])
    assert decided["decision"] == "agree" and decided["status"] == "client-confirmed"
    assert {c["condition"] for c in decided["checks"]} == set(CONDITIONS)


@pytest.mark.parametrize("condition", CONDITIONS)
def test_an_order_failing_one_condition_needs_agreement_with_that_reason(flows, condition):
    body = without(agreeable(), condition)
    flows.add(crm_event(body, 901, entity="order_created"))
    (move,) = flows.moves(body["externalId"])
    assert move["status"] == "requires-agreement"
    assert move["robot"]["failed"] == [condition]
    decided = flows.facts("robot", body["externalId"])
    (reason,) = decided["reasons"]
    assert move["fields"]["statusComment"].endswith(reason)  # where managers read it


def test_stock_arriving_makes_a_later_order_agreeable(flows):
    short = copy.deepcopy(agreeable())
    short["items"][1]["quantity"] = 3  # 1 free
    flows.add(crm_event(short, 901, entity="order_created"))
    assert flows.moves(short["externalId"])[0]["robot"]["failed"] == ["in_stock"]
    flows.stock([("nom-0c42", "main-warehouse", 10)])  # goods received in 1C
    later = {**copy.deepcopy(short), "id": 4813, "externalId": "erp-later"}
    flows.add(crm_event(later, 902, entity="order_created"))
    assert flows.moves("erp-later")[0]["status"] == "client-confirmed"


def test_an_order_is_decided_once_whatever_comes_after(flows):
    body = agreeable()
    flows.add(crm_event(body, 901, entity="order_created"))
    flows.add(crm_event({**body, "customerComment": "позвоните"}, 905))  # a later change
    assert len(flows.moves(body["externalId"])) == 1


def test_an_order_a_person_moved_first_is_never_decided(flows):
    body = {**agreeable(), "status": "client-confirmed"}  # the operator was quicker
    flows.add(crm_event(body, 901))
    flows.add(crm_event({**body, "status": "new"}, 910))  # and sent it back later
    assert flows.moves(body["externalId"]) == []
    assert "status 'client-confirmed'" in flows.facts("robot", body["externalId"])["skipped"]


def test_orders_syncd_did_not_bring_from_1c_are_left_to_people(flows):
    body = {**agreeable(), "externalId": None}
    flows.add(crm_event(body, 901, entity="order_created"))
    assert flows.facts("robot", "4812") is None
