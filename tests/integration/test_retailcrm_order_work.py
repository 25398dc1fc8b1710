"""The client's payments and tasks calls against the sandbox CRM over loopback.

What a caller relies on: ids back, the CRM's totals and ``fullPaidAt`` moving
with the payments, history naming each payment change, refusals as the
client's typed errors, and tasks findable by order number and performer
(the look-up a caller makes before creating a task again).
"""

from __future__ import annotations

import pytest

from syncd.connectors.pacing import Pacer
from syncd.connectors.retailcrm.client import CrmClient, as_list
from syncd.connectors.retailcrm.errors import CrmNotFound, CrmValidationError
from syncd.connectors.retailcrm.transport import CrmTransport
from syncd_sandbox.crm_app import SandboxCrm
from syncd_sandbox.crm_users import user_body
from tests.support.serve import serving

KEY, OTHER = "sandbox-key-syncd-000", "sandbox-key-other-111"
ORDER = {
    "externalId": "A-1",
    "managerId": 7,
    "items": [{"offer": {"externalId": "sku-1"}, "quantity": 2, "initialPrice": 500}],
}


def client(url: str, key: str = KEY) -> CrmClient:
    pacer = Pacer(1000)
    return CrmClient(CrmTransport(url, key, site="main", pacer=pacer, sleep=lambda s: None))


@pytest.fixture
def sandbox():
    app = SandboxCrm([KEY, OTHER], requests_per_second=None)
    app.state.users[7] = user_body(7, "Ольга")
    with serving(app) as url:
        crm = client(url)
        crm.create_order(ORDER)
        yield app, crm


def fields_since(crm: CrmClient, after: int) -> list[tuple[str, object, object]]:
    (page,) = list(crm.order_history(since_id=after))
    return [(r["field"], r["oldValue"], r["newValue"]) for r in page.records]


def last_history_id(crm: CrmClient) -> int:
    return max(r["id"] for page in crm.order_history() for r in page.records)


def test_a_payment_made_paid_marks_the_order_paid_in_full_and_history_says_so(sandbox):
    _, crm = sandbox
    payment_id = crm.create_payment({"externalId": "A-1"}, "bank-card", amount=1000)
    order = crm.get_order("A-1")
    assert [p["id"] for p in as_list(order["payments"])] == [payment_id]
    assert order["prepaySum"] == 0 and "fullPaidAt" not in order
    mark = last_history_id(crm)

    assert crm.edit_payment(payment_id, {"status": "paid"}) == payment_id

    order = crm.get_order("A-1")
    assert order["prepaySum"] == 1000 and order["fullPaidAt"]
    assert fields_since(crm, mark) == [
        ("payments.status", {"code": "not-paid"}, {"code": "paid"}),
        ("full_paid_at", None, order["fullPaidAt"]),
    ]


def test_a_payment_is_edited_by_its_external_id_and_deleting_it_unmarks_the_order(sandbox):
    _, crm = sandbox
    payment_id = crm.create_payment(
        {"externalId": "A-1"}, "cash", amount=1000, status="paid", external_id="1c-pay-1"
    )
    assert crm.get_order("A-1")["fullPaidAt"]  # paid in full as it was made
    assert crm.edit_payment("1c-pay-1", {"amount": 600}, by="externalId") == payment_id
    order = crm.get_order("A-1")
    assert order["prepaySum"] == 600 and "fullPaidAt" not in order  # no longer in full
    mark = last_history_id(crm)

    crm.delete_payment(payment_id)

    assert crm.get_order("A-1")["payments"] == []  # an empty map, as PHP sends it
    assert fields_since(crm, mark) == [("payments", {"id": payment_id, "type": "cash"}, None)]


def test_payment_history_tells_our_key_from_another_and_a_manager(sandbox):
    app, crm = sandbox
    payment_id = crm.create_payment({"externalId": "A-1"}, "cash", amount=400)
    client(crm.t.base.removesuffix("/api/v5/"), OTHER).edit_payment(payment_id, {"amount": 1000})
    with app.state.lock:
        order = app.state.find("order", "A-1", "externalId", "main")
        paid = [{**p, "status": "paid"} for p in order["payments"]]
        app.state.edit("order", order, {"payments": paid}, author="user")
    (page,) = list(crm.order_history())
    who = {
        r["field"]: (r["source"], (r.get("apiKey") or {}).get("current"))
        for r in page.records
        if not r.get("created")
    }
    assert who == {
        "payments": ("api", True),
        "payments.amount": ("api", False),
        "payments.status": ("user", None),
        "full_paid_at": ("user", None),  # written with the change that caused it [U]
    }
    stubs = [r["payment"] for r in page.records if r["field"].startswith("payments")]
    assert {s["id"] for s in stubs} == {payment_id}


def test_refused_payments_raise_the_clients_typed_errors(sandbox):
    _, crm = sandbox
    with pytest.raises(CrmValidationError, match="type"):
        crm.create_payment({"externalId": "A-1"}, "no-such-type")
    with pytest.raises(CrmValidationError, match="order"):
        crm.create_payment({"externalId": "nope"}, "cash")
    with pytest.raises(CrmValidationError, match="status"):
        crm.create_payment({"externalId": "A-1"}, "cash", status="credit-approved")
    crm.create_payment({"externalId": "A-1"}, "cash", external_id="dup")
    with pytest.raises(CrmValidationError, match="already exists"):
        crm.create_payment({"externalId": "A-1"}, "cash", external_id="dup")
    with pytest.raises(CrmNotFound):
        crm.edit_payment(99999, {"status": "paid"})
    with pytest.raises(ValueError, match="order needs"):
        crm.create_payment({}, "cash")
    assert len(as_list(crm.get_order("A-1")["payments"])) == 1  # nothing else went in


def test_a_payment_can_name_its_order_by_id_or_number(sandbox):
    _, crm = sandbox
    order = crm.get_order("A-1")
    crm.create_payment({"id": order["id"]}, "cash", amount=1)
    crm.create_payment({"number": order["number"]}, "cash", amount=2)
    amounts = sorted(p["amount"] for p in as_list(crm.get_order("A-1")["payments"]))
    assert amounts == [1, 2]


def test_payment_references_are_read_by_code(sandbox):
    _, crm = sandbox
    statuses, types = crm.payment_statuses(), crm.payment_types()
    assert statuses["paid"]["paymentComplete"] is True
    assert statuses["not-paid"]["paymentComplete"] is False
    assert set(types["cash"]["paymentStatuses"]) <= set(statuses)


def test_a_task_for_the_orders_manager_is_found_by_order_number_and_performer(sandbox):
    _, crm = sandbox
    order = crm.get_order("A-1")
    task_id = crm.create_task(
        "Перезвонить клиенту",
        order["managerId"],
        {"externalId": "A-1"},
        "2026-11-02 15:00",
        "Недозвон 1 из 3",
        None,
    )
    task = crm.get_task(task_id)
    assert task["performer"] == 7 and task["complete"] is False
    assert task["order"] == {
        "id": order["id"],
        "number": order["number"],
        "externalId": "A-1",
        "site": "main",
    }
    assert (task["datetime"], task["commentary"]) == ("2026-11-02 15:00", "Недозвон 1 из 3")
    crm.create_task("Другое", 2, None, None, None, None)

    found = crm.find_tasks(order_number=order["number"], performer_id=7, text="Перезвонить")

    assert [t["id"] for t in found] == [task_id]
    assert crm.find_tasks(order_number=order["number"], performer_id=2) == []
    assert [t["id"] for t in crm.tasks({"performers": [2]})] == [task_id + 1]


def test_tasks_have_no_external_id_so_a_repeat_makes_a_second_task(sandbox):
    _, crm = sandbox
    first = crm.create_task("Перезвонить", 7, {"externalId": "A-1"})
    second = crm.create_task("Перезвонить", 7, {"externalId": "A-1"})
    assert first != second
    assert len(crm.find_tasks(order_number=crm.get_order("A-1")["number"])) == 2


def test_a_task_for_no_user_or_without_text_or_with_seconds_is_refused(sandbox):
    _, crm = sandbox
    with pytest.raises(CrmValidationError, match="performerId"):
        crm.create_task("Перезвонить", 404, {"externalId": "A-1"})
    with pytest.raises(CrmValidationError, match="performerId"):
        crm.create_task("Перезвонить", None, {"externalId": "A-1"})
    with pytest.raises(CrmValidationError, match="order"):
        crm.create_task("Перезвонить", 7, {"externalId": "nope"})
    with pytest.raises(ValueError, match="Y-m-d H:i"):
        crm.create_task("Перезвонить", 7, None, "2026-11-02 15:00:00")
    with pytest.raises(ValueError, match="text"):
        crm.create_task("  ", 7)
    with pytest.raises(CrmNotFound):
        crm.get_task(12345)
    assert list(crm.tasks()) == []


def test_users_tell_whether_a_manager_can_take_a_task(sandbox):
    app, crm = sandbox
    app.state.users[7]["active"] = False
    assert crm.get_user(7)["active"] is False
    managers = {u["id"] for u in crm.users({"isManager": 1, "active": 1})}
    assert 7 not in managers and {1, 2} <= managers
    with pytest.raises(CrmValidationError, match="performerId"):
        crm.create_task("Перезвонить", 7)
    with pytest.raises(CrmNotFound):
        crm.get_user(999)
