"""RetailCRM contract for payments, tasks and their references: fixture and sandbox alike.

The pattern of ``test_contract_retailcrm``: each answer is read from a
hand-written fixture in the recorded shapes (``tests/fixtures/retailcrm/``:
payments_*, tasks_*, reference_payment_*, orders_history_payments) and from
the sandbox CRM after the same business steps, and both are held to one set
of checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from syncd_sandbox.crm_app import SandboxCrm
from syncd_sandbox.crm_payments import edit_payment
from syncd_sandbox.crm_users import user_body
from tests.integration.test_contract_retailcrm import (
    KEY,
    ORDER,
    OTHER,
    STUB_KEYS,
    Answer,
    Live,
    check_crm_time,
    check_history_page,
    check_order,
    check_success,
    recorded,
)
from tests.support.serve import serving

TASK_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")  # no seconds
PAYMENT_STUB_KEYS = {"id", "type", "externalId", "status", "amount"}
UNPAID = {**ORDER, "payments": []}  # totalSumm 3450 (contract ORDER), nothing paid yet


# -- the business steps on the sandbox ---------------------------------------------
def _order(live: Live) -> dict:
    live.made(live.post("orders/create", {"order": UNPAID}))
    return live.made(live.get("orders/erp-7f3c2a10"))["order"]


def live_payments_create(live: Live) -> Answer:
    _order(live)
    payment = {"order": {"externalId": "erp-7f3c2a10"}, "type": "bank-card", "amount": 3450}
    return live.post("orders/payments/create", {"payment": payment})


def live_payments_edit(live: Live) -> Answer:
    payment = {"order": {"externalId": "erp-7f3c2a10"}, "type": "cash", "externalId": "pay-7"}
    live.made(live_payments_create(live))
    live.made(live.post("orders/payments/create", {"payment": payment}))
    changes = {"payment": {"status": "paid"}, "by": "externalId"}
    return live.post("orders/payments/pay-7/edit", changes)


def live_payments_delete(live: Live) -> Answer:
    made = live.made(live_payments_create(live))
    return live.post(f"orders/payments/{made['id']}/delete", {})


def live_order_with_payments(live: Live) -> Answer:
    live.made(live_payments_create(live))
    order = {"order": {"externalId": "erp-7f3c2a10"}, "type": "cash", "amount": 100}
    live.made(live.post("orders/payments/create", {"payment": {**order, "status": "paid"}}))
    return live.get("orders/erp-7f3c2a10")


def live_payments_history(live: Live) -> Answer:
    order = {"externalId": "erp-7f3c2a10"}
    live.made(live.post("orders/create", {"order": UNPAID}))
    card = {"order": order, "type": "bank-card", "externalId": "pay-7", "amount": 2000}
    card_id = live.made(live.post("orders/payments/create", {"payment": card}))["id"]
    edit = {"payment": {"amount": 3450}, "by": "id"}
    live.made(live.post(f"orders/payments/{card_id}/edit", edit, key=OTHER))
    cash = {"order": order, "type": "cash", "amount": 300}
    cash_id = live.made(live.post("orders/payments/create", {"payment": cash}))["id"]
    state = live.app.state
    edit_payment(state, str(card_id), "id", {"status": "paid"}, None, author="user")  # a manager
    with state.lock:  # the manager removes the cash payment in the CRM's screens
        crm_order = state.find("order", "erp-7f3c2a10", "externalId", "main")
        kept = [p for p in crm_order["payments"] if p["id"] != cash_id]
        state.edit("order", crm_order, {"payments": kept}, author="user")
    return live.get("orders/history", {"limit": 100})


def live_tasks_create(live: Live) -> Answer:
    live.app.state.users[17] = user_body(17, "Ольга")
    _order(live)
    task = {"text": "Недозвон 1 из 3", "performerId": 17, "order": {"externalId": "erp-7f3c2a10"}}
    return live.post("tasks/create", {"task": {**task, "datetime": "2026-10-14 15:00"}})


def live_tasks_get(live: Live) -> Answer:
    made = live.made(live_tasks_create(live))
    return live.get(f"tasks/{made['id']}")


def live_tasks_list(live: Live) -> Answer:
    live.made(live_tasks_create(live))
    task = {"text": "Недозвон 2 из 3", "performerId": 17, "order": {"externalId": "erp-7f3c2a10"}}
    live.made(live.post("tasks/create", {"task": task}))
    number = live.made(live.get("orders/erp-7f3c2a10"))["order"]["number"]
    other = {"text": "Чужая задача", "performerId": 2}
    live.made(live.post("tasks/create", {"task": other}))
    params = {"filter[performers][]": [17], "filter[orderNumber]": number}
    return live.get("tasks", params)


LIVE: dict[str, Callable[[Live], Answer]] = {
    "payments_create": live_payments_create,
    "payments_edit": live_payments_edit,
    "payments_delete": live_payments_delete,
    "orders_get": live_order_with_payments,
    "orders_history_payments": live_payments_history,
    "tasks_create": live_tasks_create,
    "tasks_get": live_tasks_get,
    "tasks_list": live_tasks_list,
    "reference_payment_statuses": lambda live: live.get("reference/payment-statuses"),
    "reference_payment_types": lambda live: live.get("reference/payment-types"),
}


@pytest.fixture(params=["recorded", "sandbox"])
def answer(request: pytest.FixtureRequest) -> Iterator[Callable[[str], Answer]]:
    """The answer to one business step, from the fixture or from the sandbox."""
    if request.param == "recorded":
        yield recorded
        return
    app = SandboxCrm([KEY, OTHER], requests_per_second=None)
    with serving(app) as url:
        yield lambda name: LIVE[name](Live(app, url))


# -- the contract ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["payments_create", "tasks_create"])
def test_a_created_payment_or_task_answers_201_with_its_id_only(answer, name):
    body = check_success(answer(name), status=201)
    assert set(body) == {"success", "id"}
    assert isinstance(body["id"], int) and not isinstance(body["id"], bool)


def test_an_edited_payment_answers_its_id(answer):
    edited = check_success(answer("payments_edit"))
    assert set(edited) == {"success", "id"} and isinstance(edited["id"], int)


def test_a_deleted_payment_answers_success_alone(answer):
    assert check_success(answer("payments_delete")) == {"success": True}


def test_an_order_answers_its_payments_keyed_by_id_and_when_it_was_paid_in_full(answer):
    order = check_success(answer("orders_get"))["order"]
    check_order(order, payments_form="map")  # fullPaidAt checked when paid ≥ total
    paid = [p for p in order["payments"].values() if p["status"] == "paid"]
    assert paid and all(isinstance(p["amount"], int | float) for p in paid)


def test_payment_changes_in_history_carry_the_payment_and_the_history_field_names(answer):
    records = check_history_page(check_success(answer("orders_history_payments")))
    records = [r for r in records if not r.get("created")]  # the order's own creation
    for record in records:
        assert set(record["order"]) <= STUB_KEYS
        if record["field"].startswith("payments"):
            payment = record["payment"]
            assert set(payment) <= PAYMENT_STUB_KEYS and isinstance(payment["id"], int)
    added = [r for r in records if r["field"] == "payments" and r["oldValue"] is None]
    removed = [r for r in records if r["field"] == "payments" and r["newValue"] is None]
    assert added and removed
    for record in added:
        payment = record["payment"]
        assert record["newValue"] == {"id": payment["id"], "type": payment["type"]}
    for record in removed:
        assert record["oldValue"]["id"] == record["payment"]["id"]
    (status,) = [r for r in records if r["field"] == "payments.status"]
    assert (status["oldValue"], status["newValue"]) == ({"code": "not-paid"}, {"code": "paid"})
    (amount,) = [r for r in records if r["field"] == "payments.amount"]
    assert isinstance(amount["newValue"], int | float) and amount["newValue"] > amount["oldValue"]
    (full,) = [r for r in records if r["field"] == "full_paid_at"]
    assert full["oldValue"] is None
    check_crm_time(full["newValue"])
    assert {"payments"} < {r["field"].split(".")[0] for r in records}
    sources = [(r["source"], (r.get("apiKey") or {}).get("current")) for r in records]
    assert ("api", True) in sources and ("api", False) in sources and ("user", None) in sources


def check_task(task: dict) -> None:
    """A task as the account answers it (PHP ``Task``): ``performer``, not ``performerId``."""
    assert isinstance(task["id"], int) and task["text"]
    assert isinstance(task["performer"], int) and "performerId" not in task
    assert task["performerType"] == "user" and isinstance(task["complete"], bool)
    check_crm_time(task["createdAt"])
    if "datetime" in task:
        assert TASK_TIME.match(task["datetime"]), task["datetime"]
    if "order" in task:
        order = task["order"]
        assert set(order) <= {"id", "number", "externalId", "site"}
        assert isinstance(order["id"], int) and order["number"] and order["site"]


def test_a_task_names_its_performer_and_its_order(answer):
    task = check_success(answer("tasks_get"))["task"]
    check_task(task)
    assert task["complete"] is False and task["order"]["externalId"] == "erp-7f3c2a10"


def test_tasks_are_listed_for_a_performer_and_an_order_newest_first(answer):
    body = check_success(answer("tasks_list"))
    tasks = body["tasks"]
    assert body["pagination"]["totalCount"] == len(tasks) == 2
    for task in tasks:
        check_task(task)
    assert {t["performer"] for t in tasks} == {17}
    assert len({t["order"]["number"] for t in tasks}) == 1
    assert [t["id"] for t in tasks] == sorted((t["id"] for t in tasks), reverse=True)


@pytest.mark.parametrize(
    "name,key,each",
    [
        ("reference_payment_statuses", "paymentStatuses", "paymentTypes"),
        ("reference_payment_types", "paymentTypes", "paymentStatuses"),
    ],
)
def test_payment_references_come_as_objects_keyed_by_code(answer, name, key, each):
    found = check_success(answer(name))[key]
    assert isinstance(found, dict) and found
    for code, item in found.items():
        assert code == item["code"] and item["name"] and isinstance(item["active"], bool)
        assert isinstance(item[each], list) and all(isinstance(c, str) for c in item[each])
    if key == "paymentStatuses":
        complete = {c for c, s in found.items() if s["paymentComplete"] is True}
        assert "paid" in complete and "not-paid" not in complete
