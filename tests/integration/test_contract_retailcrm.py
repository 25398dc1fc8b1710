"""RetailCRM contract: the same assertions over real-shaped answers and over the sandbox.

Each test reads one answer twice — from a hand-written fixture in
``tests/fixtures/retailcrm/`` (the shapes of shared/reference/retailcrm-api.md:
§0.1, §1.3, §1.4, §2, §3, §4; the values are our own) and from the sandbox CRM
over loopback after the same business steps — and holds both to one set of
checks.  When the sandbox drifts from the documented shape, its half fails;
when a check is wrong about the real shape, the fixture half does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from syncd_sandbox.crm_app import SandboxCrm
from tests.support.paths import FIXTURES
from tests.support.serve import serving

FIXTURES = FIXTURES / "retailcrm"
KEY, OTHER = "contract-key-syncd-0000", "contract-key-other-1111"
CRM_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")  # naive: no zone, no T
HISTORY_FIELD = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
ORDER_KEYS = {
    "id",
    "slug",
    "number",
    "site",
    "status",
    "createdAt",
    "summ",
    "totalSumm",
    "prepaySum",
    "purchaseSumm",
    "customer",
    "items",
    "payments",
}
STUB_KEYS = {"id", "externalId", "managerId", "site", "status"}


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict


# -- the checks ------------------------------------------------------------------
def check_success(answer: Answer, status: int = 200) -> dict:
    assert answer.status == status
    assert answer.body["success"] is True
    return answer.body


def check_crm_time(value: Any) -> None:
    assert isinstance(value, str) and CRM_TIME.match(value), value


def payment_rows(order: dict, form: str) -> list[dict]:
    """``payments`` in the form of the answer: ``map`` keyed by payment id (GET, list,
    edit; empty ``{}`` or ``[]``) or ``list`` (create, upload, history's whole order)."""
    payments = order["payments"]
    if form == "list":
        assert isinstance(payments, list)
        return payments
    if payments in ({}, []):
        return []
    assert isinstance(payments, dict)
    assert all(key == str(p["id"]) for key, p in payments.items())  # keyed by its id
    return list(payments.values())


def check_order(order: dict, payments_form: str = "list") -> None:
    """An order as the account answers it: computed keys, nested customer, payments."""
    assert set(order) >= ORDER_KEYS, ORDER_KEYS - set(order)
    assert isinstance(order["id"], int) and order["slug"] == order["id"]
    assert isinstance(order["number"], str) and order["number"]
    check_crm_time(order["createdAt"])
    customer = order["customer"]
    assert isinstance(customer["id"], int) and customer["type"] in (
        "customer",
        "customer_corporate",
    )
    item_ids = [item["id"] for item in order["items"]]
    assert all(isinstance(i, int) for i in item_ids) and len(set(item_ids)) == len(item_ids)
    lines = 0.0
    for item in order["items"]:
        assert {"offer", "quantity", "initialPrice", "discountTotal", "prices"} <= set(item)
        assert isinstance(item["properties"], dict | list)
        lines += sum(p["price"] * p["quantity"] for p in item["prices"])
    payments = payment_rows(order, payments_form)  # §1.3: a map in GET/list, else a list
    assert all(isinstance(p["id"], int) for p in payments)
    for total in ("summ", "totalSumm", "prepaySum", "purchaseSumm"):
        assert isinstance(order[total], int | float) and not isinstance(order[total], bool)
    assert order["summ"] == pytest.approx(lines)
    paid = sum(p.get("amount", 0) for p in payments if p.get("status") == "paid")
    assert order["prepaySum"] == pytest.approx(paid)
    if paid and paid >= order["totalSumm"]:
        check_crm_time(order["fullPaidAt"])  # the account marks it paid in full
    purchase = sum(i.get("purchasePrice", 0) * i["quantity"] for i in order["items"])
    assert order["purchaseSumm"] == pytest.approx(purchase)
    delivery = (order.get("delivery") or {}).get("cost", 0)
    discount = order.get("discountManualAmount", 0)
    assert order["totalSumm"] == pytest.approx(order["summ"] - discount + delivery)
    assert isinstance(order.get("customFields", []), dict | list)
    for flag in ("call", "expired", "shipped", "fromApi"):
        assert isinstance(order.get(flag, False), bool)  # real booleans, not "true"


def check_partial_upload(answer: Answer, kind: str, form: int) -> None:
    """Some items in, some not: 200 with ``success: true`` and ``failed*``, or 460."""
    plural = kind[0].upper() + kind[1:]
    body = answer.body
    assert answer.status == form
    if form == 200:
        assert body["success"] is True
    else:
        assert body["success"] is False and body["errorMsg"]
        check_errors(body["errors"])
    uploaded, failed = body[f"uploaded{plural}"], body[f"failed{plural}"]
    assert uploaded and all(isinstance(u["id"], int) and u["externalId"] for u in uploaded)
    assert failed and all(isinstance(f["externalId"], str) for f in failed)
    assert not {u["externalId"] for u in uploaded} & {f["externalId"] for f in failed}
    for whole in body.get(kind, []):  # orders/upload also answers the orders that went in
        check_order(whole)
        assert whole["id"] in {u["id"] for u in uploaded}


def check_errors(errors: Any) -> None:
    """``errors``: an object keyed by field path, or a list of lines."""
    if isinstance(errors, dict):
        assert errors and all(isinstance(k, str) and isinstance(v, str) for k, v in errors.items())
    else:
        assert isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors)


def check_history_page(body: dict) -> list[dict]:
    check_crm_time(body["generatedAt"])
    assert {"limit", "totalCount", "currentPage", "totalPageCount"} <= set(body["pagination"])
    records = body["history"]
    ids = [r["id"] for r in records]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for record in records:
        check_crm_time(record["createdAt"])
        assert HISTORY_FIELD.match(record["field"]), record["field"]  # snake_case
        if record["source"] == "api":
            assert isinstance(record["apiKey"]["current"], bool)
        if record["source"] == "user":
            assert isinstance(record["user"]["id"], int)
        assert record.get("created", True) is True and record.get("deleted", True) is True
    return records


# -- the answers -------------------------------------------------------------------
def recorded(name: str) -> Answer:
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return Answer(data["status"], data["body"])


class Live:
    """Raw HTTP to the sandbox, as any client would send it."""

    def __init__(self, app: SandboxCrm, url: str) -> None:
        self.app, self.url = app, url

    def get(self, path: str, params: dict | None = None, key: str = KEY) -> Answer:
        reply = requests.get(
            f"{self.url}/api/v5/{path}", params=params, headers={"X-API-KEY": key}, timeout=10
        )
        return Answer(reply.status_code, reply.json())

    def post(self, path: str, fields: dict, key: str = KEY) -> Answer:
        data = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in fields.items()}
        reply = requests.post(
            f"{self.url}/api/v5/{path}", data=data, headers={"X-API-KEY": key}, timeout=10
        )
        return Answer(reply.status_code, reply.json())

    def made(self, answer: Answer) -> dict:
        assert answer.body["success"] is True, answer.body
        return answer.body


ORDER = {
    "externalId": "erp-7f3c2a10",
    "firstName": "Мария",
    "phone": "+79035550142",
    "customer": {"externalId": "partner-51d0"},
    "delivery": {"code": "courier", "cost": 300},
    "items": [
        {
            "offer": {"externalId": "nom-0c41"},
            "quantity": 2,
            "initialPrice": 1200,
            "purchasePrice": 700,
        },
        {"offer": {"externalId": "nom-0c42"}, "initialPrice": 800, "discountManualAmount": 50},
    ],
    "payments": [{"type": "bank-card", "status": "paid", "amount": 3450}],
}


def live_orders_get(live: Live) -> Answer:
    live.made(live.post("customers/create", {"customer": {"externalId": "partner-51d0"}}))
    live.made(live.post("orders/create", {"order": ORDER}))
    return live.get("orders/erp-7f3c2a10")


def live_orders_list(live: Live) -> Answer:
    live.made(live.post("orders/create", {"order": ORDER}))
    live.made(live.post("orders/create", {"order": {"externalId": "erp-2", "firstName": "Олег"}}))
    return live.get("orders", {"filter[externalIds][]": ["erp-7f3c2a10", "erp-2"]})


def live_upload(kind: str, form: int) -> Callable[[Live], Answer]:
    def steps(live: Live) -> Answer:
        if form == 460:
            live.app.partial_upload_status = 460
        live.made(live.post(f"{kind}/upload", {kind: [{"externalId": "pos-1"}]}))
        new = {"externalId": "pos-2", "items": ORDER["items"]} if kind == "orders" else {}
        items = [{"externalId": "pos-1"}, {**new, "externalId": "pos-2"}]
        return live.post(f"{kind}/upload", {kind: items})

    return steps


def live_orders_history(live: Live) -> Answer:
    live.made(live.post("orders/create", {"order": ORDER}))
    changes = {"payments": [{"id": _payment_id(live), "status": "not-paid"}]}
    live.made(live.post("orders/erp-7f3c2a10/edit", {"order": changes}, key=OTHER))
    with live.app.state.lock:
        order = live.app.state.find("order", "erp-7f3c2a10", "externalId", "main")
        live.app.state.edit("order", order, {"status": "client-confirmed"}, author="user")
    live.made(live.post("orders/erp-7f3c2a10/edit", {"order": {"customFields": {"nps": 9}}}))
    return live.get("orders/history", {"limit": 100})


def _payment_id(live: Live) -> int:
    (payment,) = live.made(live.get("orders/erp-7f3c2a10"))["order"]["payments"].values()
    return payment["id"]


def live_customers_history(live: Live) -> Answer:
    keep = live.made(live.post("customers/create", {"customer": {"externalId": "p-1"}}))
    dup = live.made(live.post("customers/create", {"customer": {"externalId": "p-2"}}))
    with live.app.state.lock:
        customer = live.app.state.find("customer", "p-2", "externalId", "main")
        live.app.state.edit("customer", customer, {"firstName": "Мария"}, author="user")
    live.made(
        live.post(
            "customers/combine",
            {"customers": [{"id": dup["id"]}], "resultCustomer": {"id": keep["id"]}},
        )
    )
    return live.get("customers/history", {"limit": 100})


LIVE: dict[str, Callable[[Live], Answer]] = {
    "orders_get": live_orders_get,
    "orders_list": live_orders_list,
    "orders_upload_partial_200": live_upload("orders", 200),
    "orders_upload_partial_460": live_upload("orders", 460),
    "customers_upload_partial_200": live_upload("customers", 200),
    "customers_upload_partial_460": live_upload("customers", 460),
    "reference_stores": lambda live: live.get("reference/stores"),
    "reference_statuses": lambda live: live.get("reference/statuses"),
    "reference_sites": lambda live: live.get("reference/sites"),
    "orders_history": live_orders_history,
    "customers_history": live_customers_history,
    "error_fields_object": lambda live: live.post("orders/create", {"order": {"status": "nope"}}),
    "error_lines_list": lambda live: live.post("orders/create", {"order": {}, "site": "elsewhere"}),
}


@pytest.fixture(params=["recorded", "sandbox"])
def answer(request: pytest.FixtureRequest) -> Iterator[Callable[[str], Answer]]:
    """The answer to one business step, from the fixture or from the sandbox."""
    if request.param == "recorded":
        yield recorded
        return
    app = SandboxCrm([KEY, OTHER], requests_per_second=None)  # defaults: as a real account
    with serving(app) as url:
        yield lambda name: LIVE[name](Live(app, url))


# -- the contract ------------------------------------------------------------------
def test_an_order_carries_item_ids_a_nested_customer_totals_and_payments_by_id(answer):
    order = check_success(answer("orders_get"))["order"]
    check_order(order, payments_form="map")
    assert isinstance(order["payments"], dict) and order["payments"]


def test_a_list_of_orders_is_paginated_and_each_order_has_the_same_shape(answer):
    body = check_success(answer("orders_list"))
    assert body["pagination"]["totalCount"] == len(body["orders"]) == 2
    for order in body["orders"]:
        check_order(order, payments_form="map")
    assert {} in [order["payments"] for order in body["orders"]]  # empty: {} in a list


@pytest.mark.parametrize("kind", ["orders", "customers"])
def test_a_partial_upload_answers_200_success_with_the_failed_items(answer, kind):
    check_partial_upload(answer(f"{kind}_upload_partial_200"), kind, 200)


@pytest.mark.parametrize("kind", ["orders", "customers"])
def test_a_partial_upload_may_answer_460_with_the_errors(answer, kind):
    check_partial_upload(answer(f"{kind}_upload_partial_460"), kind, 460)


def test_stores_come_as_a_list_each_with_its_code(answer):
    stores = check_success(answer("reference_stores"))["stores"]
    assert isinstance(stores, list) and stores
    assert all(isinstance(s["code"], str) and s["name"] for s in stores)


@pytest.mark.parametrize("name,key", [("statuses", "statuses"), ("sites", "sites")])
def test_statuses_and_sites_come_as_objects_keyed_by_code(answer, name, key):
    found = check_success(answer(f"reference_{name}"))[key]
    assert isinstance(found, dict) and found
    assert all(code == item["code"] for code, item in found.items())
    if name == "statuses":
        assert all(isinstance(s["active"], bool) and s["group"] for s in found.values())


def test_order_history_records_carry_the_full_order_once_and_stubs_after(answer):
    records = check_history_page(check_success(answer("orders_history")))
    created, *later = records
    assert created["created"] is True and created["oldValue"] is None
    assert created["apiKey"] == {"current": True}
    check_order(created["order"])
    assert later and all("created" not in r for r in later)
    for record in later:
        assert set(record["order"]) <= STUB_KEYS and {"id", "site", "status"} <= set(
            record["order"]
        )
    assert {r["source"] for r in later} >= {"api", "user"}
    assert any(r.get("apiKey") == {"current": False} for r in later)  # another key's change
    by_user = next(r for r in later if r["field"] == "status")
    assert by_user["newValue"] == {"code": by_user["order"]["status"]}  # status at that moment
    assert any(r["field"].startswith("custom_") for r in later)
    payments = [r for r in later if r["field"].startswith("payments.")]
    assert payments and all(isinstance(r["payment"]["id"], int) for r in payments)


def test_customer_history_created_has_the_new_id_and_deleted_the_whole_customer(answer):
    records = check_history_page(check_success(answer("customers_history")))
    created = [r for r in records if r.get("created")]
    deleted = [r for r in records if r.get("deleted")]
    assert created and deleted
    for record in created:
        assert record["field"] == "id" and record["oldValue"] is None
        assert record["newValue"] == record["customer"]["id"]
        assert {"type", "createdAt"} <= set(record["customer"])
    for record in deleted:
        assert record["field"] == "id" and record["newValue"] is None
        assert record["oldValue"] == record["customer"]["id"]
        assert {"type", "createdAt", "site"} <= set(record["customer"])  # whole, not a stub
        assert isinstance(record["combinedTo"]["id"], int)
    stubs = [r for r in records if not r.get("created") and not r.get("deleted")]
    assert stubs and all(set(r["customer"]) <= {"id", "externalId", "site"} for r in stubs)


@pytest.mark.parametrize("name,shape", [("error_fields_object", dict), ("error_lines_list", list)])
def test_errors_come_as_an_object_by_field_or_a_list_of_lines(answer, name, shape):
    reply = answer(name)
    assert reply.status >= 400 and reply.body["success"] is False
    assert isinstance(reply.body["errorMsg"], str) and reply.body["errorMsg"]
    assert isinstance(reply.body["errors"], shape)
    check_errors(reply.body["errors"])
