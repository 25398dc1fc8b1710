"""RetailCRM endpoints: chunking, pagination, history walking, map-or-list fields."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import responses

from syncd.connectors.pacing import Pacer
from syncd.connectors.retailcrm.client import CrmClient, as_list, as_map
from syncd.connectors.retailcrm.transport import CrmTransport
from tests.support.crm import partial_upload

URL = "https://shop.retailcrm.test"
API = URL + "/api/v5/"


def crm() -> CrmClient:
    pacer = Pacer(1000, clock=lambda: 0.0, sleep=lambda s: None)
    return CrmClient(CrmTransport(URL, "k" * 20, site="main", pacer=pacer, sleep=lambda s: None))


def query(call) -> dict:
    return parse_qs(urlsplit(call.request.url).query)


def form(call) -> dict:
    return dict(parse_qsl(call.request.body))


@responses.activate
def test_upload_is_chunked_by_50_and_collects_what_went_in():
    def reply(request):
        orders = json.loads(dict(parse_qsl(request.body))["orders"])
        uploaded = [{"id": i, "externalId": o["externalId"]} for i, o in enumerate(orders)]
        return 200, {}, json.dumps({"success": True, "uploadedOrders": uploaded})

    responses.add_callback(responses.POST, API + "orders/upload", callback=reply)
    result = crm().upload_orders([{"externalId": f"E{i}"} for i in range(120)])
    assert [len(json.loads(form(c)["orders"])) for c in responses.calls] == [50, 50, 20]
    assert all(form(c)["site"] == "main" for c in responses.calls)
    assert result.calls == 3 and len(result.uploaded) == 120 and result.failed == []


@responses.activate
def test_a_460_upload_accounts_for_each_item_and_looks_the_refused_ones_up():
    responses.post(
        API + "orders/upload",
        status=460,
        json=partial_upload(
            ["Order with externalId=B already exists.", "items[0]: bad offer in C"],
            [{"id": 1, "externalId": "A"}],
            ["B", "C"],
        ),
    )
    responses.get(API + "orders", json={"success": True, "orders": [{"id": 2, "externalId": "B"}]})
    result = crm().upload_orders([{"externalId": x} for x in "ABC"])
    assert result.uploaded == [{"id": 1, "externalId": "A"}]
    assert result.existing == [
        {"id": 2, "externalId": "B", "errors": ["Order with externalId=B already exists."]}
    ]
    assert result.failed == [{"externalId": "C", "errors": ["items[0]: bad offer in C"]}]
    lookup = query(responses.calls[1])
    assert lookup["filter[externalIds][]"] == ["B", "C"] and lookup["filter[sites][]"] == ["main"]


@responses.activate
def test_a_200_success_answer_with_failed_orders_accounts_for_every_item():
    # the recorded form: success true, the orders that went in, failedOrders without reasons;
    # D is named nowhere
    responses.post(
        API + "orders/upload",
        json={
            "success": True,
            "orders": [{"id": 1, "externalId": "A", "status": "new"}],
            "failedOrders": [{"externalId": "B"}, {"externalId": "C"}],
        },
    )
    responses.get(API + "orders", json={"success": True, "orders": [{"id": 2, "externalId": "B"}]})
    refused = {"success": False, "errorMsg": "Errors in the entity format"}
    responses.post(
        API + "orders/create",
        status=400,
        json={**refused, "errors": {"status": "Status not found"}},
    )
    responses.post(API + "orders/create", status=201, json={"success": True, "id": 4, "order": {}})
    result = crm().upload_orders([{"externalId": x} for x in "ABCD"])
    assert result.uploaded == [{"id": 1, "externalId": "A"}, {"id": 4, "externalId": "D"}]
    assert [(e["externalId"], e["id"]) for e in result.existing] == [("B", 2)]
    assert result.existing[0]["errors"] == ["orders/upload listed it as failed without a reason"]
    (failed,) = result.failed
    assert failed["externalId"] == "C"
    (reason,) = failed["errors"]
    assert "listed it as failed without a reason" in reason
    assert "orders/create refused it: RetailCRM 400" in reason and "Status not found" in reason
    lookup, create_c, create_d = responses.calls[1:]
    assert query(lookup)["filter[externalIds][]"] == ["B", "C", "D"]
    assert json.loads(form(create_c)["order"]) == {"externalId": "C"}
    assert json.loads(form(create_d)["order"]) == {"externalId": "D"}
    assert form(create_d)["site"] == "main"


@responses.activate
def test_an_item_the_answer_leaves_out_but_the_crm_has_is_bound_not_created_again():
    responses.post(
        API + "customers/upload",
        json={"success": True, "uploadedCustomers": [{"id": 5, "externalId": "C1"}]},
    )
    found = [{"id": 6, "externalId": "C2", "firstName": "Анна"}]
    responses.get(API + "customers", json={"success": True, "customers": found})
    result = crm().upload_customers([{"externalId": "C1"}, {"externalId": "C2"}])
    assert result.uploaded == [{"id": 5, "externalId": "C1"}] and result.failed == []
    (existing,) = result.existing
    assert existing["id"] == 6 and "named it neither uploaded nor failed" in existing["errors"][0]
    assert len(responses.calls) == 2  # the upload and one lookup; nothing created alone


@responses.activate
def test_history_walks_by_since_id_on_page_one_until_no_more_pages():
    responses.get(
        API + "orders/history",
        json={
            "success": True,
            "generatedAt": "2026-11-23 10:00:00",
            "history": [{"id": 5}, {"id": 9}],
            "pagination": {"totalPageCount": 2, "currentPage": 1},
        },
    )
    responses.get(
        API + "orders/history",
        json={
            "success": True,
            "history": [{"id": 12}],
            "pagination": {"totalPageCount": 1, "currentPage": 1},
        },
    )
    pages = list(crm().order_history(since_id=4))
    assert [p.last_id for p in pages] == [9, 12] and [p.more for p in pages] == [True, False]
    assert query(responses.calls[0])["filter[sinceId]"] == ["4"]
    assert query(responses.calls[1])["filter[sinceId]"] == ["9"]
    assert all(query(c)["page"] == ["1"] and query(c)["limit"] == ["100"] for c in responses.calls)


@responses.activate
def test_first_history_read_can_start_at_a_date():
    responses.get(API + "customers/history", json={"success": True, "history": []})
    pages = list(crm().customer_history(start_date="2026-11-01 00:00:00"))
    assert pages[0].records == [] and not pages[0].more
    assert query(responses.calls[0])["filter[startDate]"] == ["2026-11-01 00:00:00"]


@responses.activate
def test_orders_by_ids_asks_at_most_100_per_call():
    responses.get(API + "orders", json={"success": True, "orders": [{"id": 1}]})
    crm().orders_by_ids(list(range(250)))
    assert [len(query(c)["filter[ids][]"]) for c in responses.calls] == [100, 100, 50]


@responses.activate
def test_lists_walk_every_page():
    for page, total in ((1, 3), (2, 3), (3, 3)):
        responses.get(
            API + "customers",
            json={
                "success": True,
                "customers": [{"id": page}],
                "pagination": {"currentPage": page, "totalPageCount": total},
            },
        )
    assert [c["id"] for c in crm().customers()] == [1, 2, 3]
    assert [query(c)["page"] for c in responses.calls] == [["1"], ["2"], ["3"]]


@responses.activate
def test_customers_are_found_by_phone_through_filter_name():
    responses.get(API + "customers", json={"success": True, "customers": [{"id": 3}]})
    assert crm().customers_by_phone("+79123456789") == [{"id": 3}]
    assert query(responses.calls[0])["filter[name]"] == ["+79123456789"]


@responses.activate
def test_edit_addresses_by_external_id_or_id_with_the_site():
    responses.post(API + "orders/77/edit", json={"success": True, "id": 77})
    crm().edit_order(77, {"status": "client-confirmed"}, by="id")
    sent = form(responses.calls[0])
    assert sent["by"] == "id" and sent["site"] == "main"
    assert json.loads(sent["order"]) == {"status": "client-confirmed"}


READERS = [
    ("statuses", "statuses", "statuses"),
    ("status_groups", "status-groups", "statusGroups"),
    ("sites", "sites", "sites"),
    ("stores", "stores", "stores"),
]
SENT = [{"code": "a", "name": "A"}, {"code": "b", "name": "B"}]


@pytest.mark.parametrize("reader,path,key", READERS)
@pytest.mark.parametrize(
    "sent",
    [{item["code"]: item for item in SENT}, SENT, [], {}],
    ids=["map", "list", "empty-list", "empty-map"],
)
@responses.activate
def test_every_reference_reader_takes_a_map_or_a_list_and_keys_it_by_code(reader, path, key, sent):
    responses.get(API + f"reference/{path}", json={"success": True, key: sent})
    expected = {item["code"]: item for item in SENT} if sent else {}
    assert getattr(crm(), reader)() == expected


@responses.activate
def test_any_reference_is_read_by_code_and_the_doctor_takes_statuses_as_a_list():
    from types import SimpleNamespace

    from pydantic import SecretStr

    from syncd.doctor.probes import CrmProbe

    statuses = [{"code": "new", "group": "new", "active": True}]
    responses.get(API + "reference/statuses", json={"success": True, "statuses": statuses})
    responses.get(API + "reference/payment-types", json={"success": True, "paymentTypes": SENT})
    settings = SimpleNamespace(url=URL, site="main", api_key=SecretStr("k" * 20))
    assert CrmProbe(settings, timeout=5).statuses.get() == {"new": statuses[0]}
    assert set(crm().reference("payment-types", "paymentTypes")) == {"a", "b"}


def test_map_or_list_fields_read_either_way():
    assert as_list({"4326": {"id": 4326}}) == [{"id": 4326}]
    assert as_list([]) == [] and as_list(None) == []
    assert as_map([]) == {} and as_map({"nps": 9}) == {"nps": 9}


@responses.activate
def test_customer_upload_fix_and_combine_send_the_documented_fields():
    responses.post(
        API + "customers/upload",
        json={"success": True, "uploadedCustomers": [{"id": 5, "externalId": "C1"}]},
    )
    responses.post(API + "customers/fix-external-ids", json={"success": True})
    responses.post(API + "customers/combine", json={"success": True})
    client = crm()
    assert client.upload_customers([{"externalId": "C1"}]).uploaded == [
        {"id": 5, "externalId": "C1"}
    ]
    client.fix_customer_external_ids([{"id": 9, "externalId": "C9"}])
    client.combine_customers([2, 3], survivor=1)
    upload, fix, combine = (form(c) for c in responses.calls)
    assert json.loads(upload["customers"]) == [{"externalId": "C1"}]
    assert json.loads(fix["customers"]) == [{"id": 9, "externalId": "C9"}]
    assert json.loads(combine["customers"]) == [{"id": 2}, {"id": 3}]
    assert json.loads(combine["resultCustomer"]) == {"id": 1}


@responses.activate
def test_inventories_and_custom_fields_are_paginated_lists():
    responses.get(
        API + "store/inventories",
        json={
            "success": True,
            "offers": [{"externalId": "SKU1", "stores": [{"store": "main-store", "quantity": 3}]}],
            "pagination": {"totalPageCount": 1},
        },
    )
    responses.get(
        API + "custom-fields",
        json={
            "success": True,
            "customFields": [{"code": "ltv", "entity": "customer"}],
            "pagination": {"totalPageCount": 1},
        },
    )
    assert [o["externalId"] for o in crm().inventories({"sites": ["main"]})] == ["SKU1"]
    assert crm().custom_fields("customer") == [{"code": "ltv", "entity": "customer"}]
    assert query(responses.calls[0])["limit"] == ["250"]
    assert query(responses.calls[1])["filter[entity]"] == ["customer"]
