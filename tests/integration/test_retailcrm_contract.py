"""The client against the sandbox CRM over loopback: the same behaviours as the mocked tests."""

from __future__ import annotations

import pytest

from syncd.connectors.pacing import Pacer
from syncd.connectors.retailcrm.client import CrmClient, as_list
from syncd.connectors.retailcrm.errors import (
    CrmAccessDenied,
    CrmAccountMissing,
    CrmNoAnswer,
    CrmNotFound,
    CrmRateLimited,
    CrmValidationError,
)
from syncd.connectors.retailcrm.transport import CrmTransport
from syncd_sandbox.crm_app import SandboxCrm
from tests.support.serve import serving

KEY, OTHER = "sandbox-key-syncd-000", "sandbox-key-other-111"


def client(url: str, key: str = KEY, **kwargs) -> CrmClient:
    pacer = Pacer(kwargs.pop("rps", 1000))
    return CrmClient(
        CrmTransport(url, key, site="main", pacer=pacer, sleep=lambda s: None, **kwargs)
    )


@pytest.fixture
def sandbox():
    app = SandboxCrm([KEY, OTHER], requests_per_second=None)
    with serving(app) as url:
        yield app, url


def test_create_get_edit_and_statuses_round_trip(sandbox):
    app, url = sandbox
    crm = client(url)
    created = crm.create_order({"externalId": "ERP-1", "firstName": "Анна", "status": "new"})
    assert created["order"]["number"] == f"{created['id']}M"
    assert crm.get_order("ERP-1")["firstName"] == "Анна"
    crm.edit_order("ERP-1", {"status": "client-confirmed"})
    assert crm.get_order(created["id"], by="id")["status"] == "client-confirmed"
    assert crm.order_statuses(external_ids=["ERP-1"]) == [
        {
            "id": created["id"],
            "externalId": "ERP-1",
            "status": "client-confirmed",
            "group": "approval",
        }
    ]


def test_errors_are_the_same_types_as_against_the_real_service(sandbox):
    _, url = sandbox
    with pytest.raises(CrmAccessDenied, match="Wrong"):
        client(url, key="not-a-key").get_order("X")
    with pytest.raises(CrmNotFound):
        client(url).get_order("nope")
    with pytest.raises(CrmValidationError, match="status: Status not found"):
        client(url).create_order({"externalId": "E", "status": "no-such-status"})


@pytest.mark.parametrize("partial_status", [200, 460])
def test_upload_chunks_and_duplicates_are_found_by_external_id(sandbox, partial_status):
    app, url = sandbox
    app.partial_upload_status = partial_status
    crm = client(url)
    first = crm.upload_orders([{"externalId": f"E{i}"} for i in range(120)])
    assert first.calls == 3 and len(first.uploaded) == 120 and first.failed == []
    again = crm.upload_orders([{"externalId": "E1"}, {"externalId": "NEW"}])
    assert [u["externalId"] for u in again.uploaded] == ["NEW"]
    e1 = app.state.find("order", "E1", "externalId", "main")
    assert [(e["externalId"], e["id"]) for e in again.existing] == [("E1", e1["id"])]
    assert again.failed == []
    if partial_status == 460:  # only the 460 form says why
        assert "already exists" in again.existing[0]["errors"][0]
    assert len(crm.orders_by_ids(list(range(1, 122)))) == 121


def test_history_marks_only_the_reading_keys_changes_as_current(sandbox):
    app, url = sandbox
    client(url).create_order({"externalId": "A"})
    client(url, key=OTHER).edit_order("A", {"status": "client-confirmed"})
    order = app.state.find("order", "A", "externalId", "main")
    app.state.edit("order", order, {"status": "assembling"}, author="user")
    (page,) = list(client(url).order_history())
    mine, other, manager = page.records
    assert mine["created"] is True and mine["apiKey"] == {"current": True}
    assert mine["order"]["externalId"] == "A"
    assert other["apiKey"] == {"current": False} and other["newValue"] == {
        "code": "client-confirmed"
    }
    assert manager["source"] == "user" and manager["order"]["status"] == "assembling"
    assert mine["id"] < other["id"] < manager["id"]


def test_the_sandbox_rate_limit_answers_503_and_the_client_backs_off_until_served(sandbox):
    app, url = sandbox
    now = [0.0]
    app.clock = lambda: now[0]  # the sandbox's bucket runs on the client's backoff time
    app.rps = 2

    def backoff(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(1000)
    crm = CrmClient(CrmTransport(url, KEY, pacer=pacer, sleep=backoff))
    for _ in range(4):
        assert "new" in crm.statuses()
    assert app.throttled >= 1 and crm.t.rate_limited == app.throttled

    stuck = CrmClient(CrmTransport(url, KEY, pacer=pacer, attempts=2, sleep=lambda s: None))
    app._buckets.clear()
    app.rps = 1
    stuck.statuses()  # the one token
    with pytest.raises(CrmRateLimited):
        stuck.statuses()  # no time passes: both attempts are refused


def test_a_mistyped_account_is_recognised_on_get_and_post():
    app = SandboxCrm([KEY], requests_per_second=None, account_exists=False)
    with serving(app) as url:
        with pytest.raises(CrmAccountMissing, match="Account does not exist"):
            client(url).get_order("X")
        with pytest.raises(CrmAccountMissing, match="HTML 405"):
            client(url).create_order({"externalId": "X"})


def test_an_html_503_page_is_still_a_rate_limit():
    app = SandboxCrm([KEY], requests_per_second=1, html_503=True, clock=lambda: 0.0)
    with serving(app) as url:
        crm = client(url, attempts=2)
        crm.statuses()
        with pytest.raises(CrmRateLimited):
            crm.statuses()


def test_the_key_may_also_come_as_an_apikey_parameter(sandbox):
    import requests

    _, url = sandbox
    body = requests.get(f"{url}/api/v5/reference/sites", params={"apiKey": KEY}, timeout=5).json()
    assert body["success"] is True and "main" in body["sites"]
    missing = requests.get(f"{url}/api/v5/reference/sites", timeout=5)
    assert missing.status_code == 403 and missing.json()["errorMsg"] == '"apiKey" is missing.'


def test_customers_by_phone_upload_fix_and_combine_against_the_sandbox(sandbox):
    app, url = sandbox
    crm = client(url)
    uploaded = crm.upload_customers(
        [
            {"externalId": "C1", "firstName": "Анна", "phones": [{"number": "+79123456789"}]},
            {"externalId": "C2", "firstName": "Анна"},
        ]
    )
    assert len(uploaded.uploaded) == 2
    assert [c["externalId"] for c in crm.customers_by_phone("+79123456789")] == ["C1"]
    born = crm.create_customer({"firstName": "Олег"})
    crm.fix_customer_external_ids([{"id": born["id"], "externalId": "C3"}])
    assert crm.get_customer("C3")["firstName"] == "Олег"
    survivor = uploaded.uploaded[0]["id"]
    crm.combine_customers([uploaded.uploaded[1]["id"]], survivor=survivor)
    assert [c["externalId"] for c in crm.customers()] == ["C1", "C3"]
    merged = [r for p in crm.customer_history() for r in p.records if r.get("deleted")]
    assert merged[0]["combinedTo"] == {"id": survivor}
    assert list(crm.inventories()) == [] and crm.custom_fields("order") == []


def test_injected_server_errors_and_html_pages_are_retried_through(sandbox):
    from syncd_sandbox.crm_faults import Faults

    app, url = sandbox
    app.faults = Faults(server_error=0.3, unavailable=0.2, html=True, seed=3)
    crm = client(url, attempts=10)
    unanswered = 0
    for i in range(20):
        try:
            crm.create_order({"externalId": f"F{i}"}) if i % 2 else crm.statuses()
        except CrmNoAnswer:  # a 504: the CRM did it, the answer was lost; never sent twice
            unanswered += 1
    assert app.faults.injected > 0 and unanswered > 0
    assert len(app.state.records["order"]) == 10  # every create went in exactly once


def test_a_slow_sandbox_past_the_read_timeout_is_a_retried_timeout(sandbox):
    import requests as http

    from syncd_sandbox.crm_faults import Faults

    app, url = sandbox
    app.faults = Faults(timeout=1.0, timeout_seconds=0.5)
    with pytest.raises(http.Timeout):
        client(url, attempts=2, timeout=(1.0, 0.1)).statuses()
    assert app.faults.injected == 2


def test_a_manager_can_change_an_order_over_http_and_it_shows_as_a_user_change(sandbox):
    import requests as http

    app, url = sandbox
    created = client(url).create_order({"externalId": "M1"})
    answer = http.post(
        f"{url}/sandbox/manager/orders/{created['id']}",
        json={"status": "client-confirmed"},
        timeout=5,
    )
    assert answer.status_code == 200
    (page,) = list(client(url).order_history())
    change = page.records[-1]
    assert change["source"] == "user" and change["newValue"] == {"code": "client-confirmed"}
    refused = http.post(
        f"{url}/sandbox/manager/orders/{created['id']}", json={"status": "nope"}, timeout=5
    )
    assert refused.status_code == 400


def test_history_names_fields_the_way_retailcrm_does(sandbox):
    _, url = sandbox
    crm = client(url)
    crm.create_order({"externalId": "H1"})
    crm.edit_order("H1", {"firstName": "Анна", "customFields": {"nps": 9}})
    (page,) = list(crm.order_history())
    assert [r["field"] for r in page.records[1:]] == ["first_name", "custom_nps"]
    assert crm.get_order("H1")["customFields"] == {"nps": 9}
    assert page.records[0]["order"]["customFields"] == []  # empty map serialised as a list


def test_item_and_payment_ids_stay_across_edits_and_history_names_them_its_way(sandbox):
    app, url = sandbox
    crm = client(url)
    crm.create_order(
        {
            "externalId": "I1",
            "items": [{"offer": {"externalId": "sku-1"}, "quantity": 1, "initialPrice": 100}],
            "payments": [{"type": "cash", "status": "not-paid", "amount": 100}],
            "delivery": {"code": "courier", "address": {"text": "Тверь"}},
        }
    )
    order = crm.get_order("I1")
    (item,), (payment,) = order["items"], as_list(order["payments"])  # keyed by id
    crm.edit_order(
        "I1",
        {
            "items": [
                {"id": item["id"], "quantity": 3},
                {"offer": {"externalId": "sku-2"}, "initialPrice": 50},
            ],
            "payments": [{"id": payment["id"], "status": "paid"}],
            "delivery": {"code": "courier", "address": {"text": "Москва"}},
            "managerId": 7,
        },
    )
    after = crm.get_order("I1")
    assert after["items"][0]["id"] == item["id"] and after["items"][0]["quantity"] == 3
    assert after["items"][1]["id"] not in (item["id"], payment["id"])
    assert after["payments"] == {str(payment["id"]): {**payment, "status": "paid"}}
    assert (after["summ"], after["totalSumm"], after["prepaySum"]) == (350, 350, 100)
    (page,) = list(crm.order_history())
    changes = {r["field"]: r for r in page.records[1:]}
    assert set(changes) == {
        "order_product.quantity",
        "order_product",
        "payments.status",
        "delivery_address.text",
        "manager",
    }
    assert changes["order_product.quantity"]["item"]["id"] == item["id"]
    assert changes["order_product"]["oldValue"] is None
    assert changes["payments.status"]["newValue"] == {"code": "paid"}
    assert changes["payments.status"]["payment"]["id"] == payment["id"]
    assert changes["manager"]["newValue"] == {"id": 7}


def test_an_order_carries_its_customer_and_follows_its_edits_and_merges(sandbox):
    app, url = sandbox
    crm = client(url)
    anna = crm.create_customer({"externalId": "P1", "firstName": "Анна"})["id"]
    crm.create_order({"externalId": "O1", "customer": {"externalId": "P1"}})
    crm.create_order({"externalId": "O2", "firstName": "Олег", "phone": "+79160000001"})
    assert crm.get_order("O1")["customer"]["id"] == anna
    oleg = crm.get_order("O2")["customer"]  # the account made a customer for the order
    assert oleg["type"] == "customer" and oleg["phones"] == [{"number": "+79160000001"}]
    crm.edit_customer("P1", {"lastName": "Иванова"})
    assert crm.get_order("O1")["customer"]["lastName"] == "Иванова"
    crm.combine_customers([anna], survivor=oleg["id"])
    assert crm.get_order("O1")["customer"]["id"] == oleg["id"]
    with pytest.raises(CrmValidationError, match="customer"):
        crm.create_order({"externalId": "O3", "customer": {"id": 999}})


def test_stores_come_as_a_list_and_the_client_keys_them_by_code(sandbox):
    import requests as http

    _, url = sandbox
    raw = http.get(f"{url}/api/v5/reference/stores", headers={"X-API-KEY": KEY}, timeout=5)
    assert isinstance(raw.json()["stores"], list)
    stores = client(url).stores()
    assert stores and all(code == store["code"] for code, store in stores.items())
