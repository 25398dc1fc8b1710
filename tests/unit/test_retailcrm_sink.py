"""The CRM sink: upserts by externalId in batches of 50, per-item failures, edits, id fixing."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest
import responses

from syncd.config import load_settings
from syncd.engine.contracts import PartContext
from syncd.engine.pipeline import build_pipeline
from syncd.metrics import Metrics
from syncd.model import Command
from tests.support.crm import partial_upload
from tests.support.daemon import write_config

URL = "https://shop.retailcrm.test"
API = URL + "/api/v5/"


@pytest.fixture
def sink(tmp_path):
    config = write_config(
        tmp_path,
        f"sqlite:///{tmp_path}/s.db",
        extra={
            "sinks": {
                "out": {"kind": "directory", "system": "files", "options": {"path": str(tmp_path)}},
                "crm": {
                    "kind": "retailcrm",
                    "system": "crm",
                    "options": {"requests_per_second": 1000},
                },
            }
        },
    )
    env = {"SYNCD_CRM_URL": URL, "SYNCD_CRM_API_KEY": "k" * 24, "SYNCD_CRM_SITE": "main"}
    settings = load_settings(config, env)
    part = build_pipeline(settings, PartContext(settings, Metrics())).sinks["crm"]
    part.client.t._retrying.sleep = lambda s: None
    return part


def command(n: int, key: str, action: str = "upsert", entity: str = "order", **payload):
    return Command("crm", entity, key, action, payload or {"status": "new"}, f"k{n}", id=n)


def sent(call) -> dict:
    return dict(parse_qsl(call.request.body))


@responses.activate
def test_upserts_go_in_one_upload_with_their_external_ids(sink):
    responses.post(
        API + "orders/upload",
        json={
            "success": True,
            "uploadedOrders": [{"id": 11, "externalId": "A"}, {"id": 12, "externalId": "B"}],
        },
    )
    results = sink.apply([command(1, "A"), command(2, "B")])
    assert [(r.command_id, r.ok, r.remote_id) for r in results] == [
        (1, True, "11"),
        (2, True, "12"),
    ]
    orders = json.loads(sent(responses.calls[0])["orders"])
    assert [o["externalId"] for o in orders] == ["A", "B"]
    assert sent(responses.calls[0])["site"] == "main"


@responses.activate
def test_already_existing_items_are_bound_by_lookup_and_refused_ones_fail_with_the_reason(sink):
    responses.post(
        API + "orders/upload",
        status=460,
        json=partial_upload(
            ["Order with externalId=B already exists.", "C: Offer with id 9 not found."],
            [{"id": 11, "externalId": "A"}],
            ["B", "C"],
        ),
    )
    responses.get(API + "orders", json={"success": True, "orders": [{"id": 12, "externalId": "B"}]})
    responses.post(API + "orders/12/edit", json={"success": True, "id": 12})
    results = {
        r.command_id: r for r in sink.apply([command(1, "A"), command(2, "B"), command(3, "C")])
    }
    assert results[1].ok and results[2].ok and results[2].remote_id == "12"
    assert not results[3].ok and results[3].permanent
    assert results[3].error == "order externalId=C: C: Offer with id 9 not found."
    edit = sent(responses.calls[2])
    assert edit["by"] == "id" and edit["site"] == "main"
    assert json.loads(edit["order"]) == {"status": "new"}


@responses.activate
def test_every_item_of_a_200_partial_upload_is_applied_bound_or_failed_by_external_id(sink):
    responses.post(
        API + "orders/upload",
        json={
            "success": True,
            "uploadedOrders": [{"id": 11, "externalId": "A"}],
            "failedOrders": [{"externalId": "B"}, {"externalId": "C"}],
        },
    )
    # B was refused (it is there already); D is named nowhere but went in
    in_crm = [{"id": 12, "externalId": "B"}, {"id": 14, "externalId": "D"}]
    responses.get(API + "orders", json={"success": True, "orders": in_crm})
    responses.post(API + "orders/12/edit", json={"success": True, "id": 12})
    responses.post(API + "orders/14/edit", json={"success": True, "id": 14})
    responses.post(
        API + "orders/create",
        status=400,
        json={
            "success": False,
            "errorMsg": "Errors in the entity format",
            "errors": ["items[0].offer.externalId: Offer with externalId sku-9 not found."],
        },
    )
    commands = [command(1, "A"), command(2, "B"), command(3, "C"), command(4, "D")]
    results = {r.command_id: r for r in sink.apply(commands)}
    assert len(results) == 4  # none lost
    assert [(n, results[n].ok, results[n].remote_id) for n in (1, 2, 4)] == [
        (1, True, "11"),
        (2, True, "12"),
        (4, True, "14"),
    ]
    assert not results[3].ok and results[3].permanent
    assert results[3].error.startswith("order externalId=C: orders/upload listed it as failed")
    assert "Offer with externalId sku-9 not found" in results[3].error


@responses.activate
def test_a_status_and_its_payments_change_in_one_edit(sink):
    responses.post(API + "orders/ERP-7/edit", json={"success": True, "id": 70})
    payload = {"status": "assembling", "payments": [{"type": "card", "status": "paid"}]}
    (result,) = sink.apply([command(1, "ERP-7", "edit", **payload)])
    assert result.ok and len(responses.calls) == 1
    assert json.loads(sent(responses.calls[0])["order"]) == payload


@responses.activate
def test_a_crm_born_order_gets_its_external_id(sink):
    responses.post(API + "orders/fix-external-ids", json={"success": True})
    (result,) = sink.apply([command(1, "ERP-9", "fix_external_id", id=90)])
    assert result.ok and result.remote_id == "90"
    assert json.loads(sent(responses.calls[0])["orders"]) == [{"id": 90, "externalId": "ERP-9"}]


@responses.activate
def test_a_refused_edit_is_permanent_and_rate_limiting_is_left_to_the_engine(sink):
    responses.post(
        API + "orders/X/edit",
        status=400,
        json={
            "success": False,
            "errorMsg": "Validation error",
            "errors": {"status": "Status not found"},
        },
    )
    (result,) = sink.apply([command(1, "X", "edit", status="nope")])
    assert not result.ok and result.permanent and "status: Status not found" in result.error
    responses.post(API + "orders/upload", status=503, json={"success": False, "errorMsg": "busy"})
    (result,) = sink.apply([command(2, "Y")])  # transient: the engine retries it later
    assert not result.ok and not result.permanent and "RetailCRM 503: busy" in result.error
