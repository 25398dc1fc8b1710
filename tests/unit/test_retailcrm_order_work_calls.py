"""What the payments and tasks calls send: form fields with JSON entities, nothing unset."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import responses

from syncd.connectors.pacing import Pacer
from syncd.connectors.retailcrm.client import CrmClient
from syncd.connectors.retailcrm.transport import CrmTransport

URL = "https://shop.retailcrm.test"
API = URL + "/api/v5/"


def crm() -> CrmClient:
    pacer = Pacer(1000, clock=lambda: 0.0, sleep=lambda s: None)
    return CrmClient(CrmTransport(URL, "k" * 20, site="main", pacer=pacer, sleep=lambda s: None))


def sent(call) -> dict:
    return dict(parse_qsl(call.request.body))


@responses.activate
def test_a_payment_is_sent_as_json_in_the_payment_field_with_the_site():
    responses.post(API + "orders/payments/create", json={"success": True, "id": 41}, status=201)

    assert crm().create_payment({"externalId": "A-1"}, "bank-card", amount=990.5) == 41

    form = sent(responses.calls[0])
    assert form["site"] == "main"
    assert json.loads(form["payment"]) == {
        "order": {"externalId": "A-1"},
        "type": "bank-card",
        "amount": 990.5,
    }


@responses.activate
def test_a_payment_edit_says_how_the_payment_is_named():
    responses.post(API + "orders/payments/pay-7/edit", json={"success": True, "id": 41})

    assert crm().edit_payment("pay-7", {"status": "paid"}, by="externalId", site="shop2") == 41

    form = sent(responses.calls[0])
    assert (form["by"], form["site"]) == ("externalId", "shop2")
    assert json.loads(form["payment"]) == {"status": "paid"}


@responses.activate
def test_a_task_leaves_out_what_is_not_given():
    responses.post(API + "tasks/create", json={"success": True, "id": 918}, status=201)

    assert crm().create_task("Перезвонить", 17, {"id": 4812}) == 918

    task = json.loads(sent(responses.calls[0])["task"])
    assert task == {"text": "Перезвонить", "performerId": 17, "order": {"id": 4812}}


@responses.activate
def test_tasks_of_an_order_and_performer_are_asked_for_open_ones_by_default():
    body = {"success": True, "tasks": [{"id": 1}], "pagination": {"totalPageCount": 1}}
    responses.get(API + "tasks", json=body)

    assert crm().find_tasks(order_number="4812A", performer_id=17) == [{"id": 1}]

    query = dict(parse_qsl(responses.calls[0].request.url.split("?", 1)[1]))
    assert query["filter[orderNumber]"] == "4812A"
    assert query["filter[performers][]"] == "17"
    assert query["filter[status]"] == "performing"
    assert "filter[text]" not in query
