"""The sandbox CRM's hangs: a held request is done late, after the client gave up, or never;
and the history of one object, as a retried write reads it."""

from __future__ import annotations

import json

import pytest
import requests

from syncd_sandbox.crm_app import SandboxCrm
from tests.conftest import wait_until
from tests.support.serve import serving

KEY = "sandbox-faults-key-000000"
HEADERS = {"X-API-KEY": KEY}


@pytest.fixture
def crm():
    app = SandboxCrm([KEY], requests_per_second=None)
    with serving(app, threads=8) as url:
        yield app, url + "/api/v5/"
        app.faults.release_all()


@pytest.mark.parametrize(("then", "status"), [("apply", "assembling"), ("drop", "new")])
def test_a_held_write_is_done_late_after_the_client_gave_up_or_never(crm, then, status):
    app, api = crm
    order = app.state.create("order", {"externalId": "H-1", "status": "new"}, "main", KEY)
    hold = app.faults.hold("POST", r"/orders/H-1/edit$", then=then)
    edit = {"order": json.dumps({"status": "assembling"})}
    with pytest.raises(requests.ReadTimeout):
        requests.post(api + "orders/H-1/edit", data=edit, headers=HEADERS, timeout=(2, 0.3))
    assert hold.taken == 1 and order["status"] == "new"  # held: nothing done yet
    hold.release()
    wait_until(lambda: hold.done == 1, what="the held request to go on")
    assert order["status"] == status
    answer = requests.post(api + "orders/H-1/edit", data=edit, headers=HEADERS, timeout=5)
    assert answer.status_code == 200  # the hold caught one request only


def test_the_history_of_one_order_by_id_or_external_id(crm):
    app, api = crm
    first = app.state.create("order", {"externalId": "O-1"}, "main", KEY)
    app.state.create("order", {"externalId": "O-2"}, "main", KEY)
    app.state.edit("order", first, {"status": "client-confirmed"}, author="user")
    for by in ({"filter[orderId]": first["id"]}, {"filter[orderExternalId]": "O-1"}):
        body = requests.get(api + "orders/history", params=by, headers=HEADERS, timeout=5).json()
        assert [r["order"]["id"] for r in body["history"]] == [first["id"], first["id"]]
        assert [r.get("source") for r in body["history"]] == ["api", "user"]


def test_an_object_is_found_by_its_external_id_as_it_changes_and_history_after_an_id():
    from syncd_sandbox.crm_state import CrmState

    state = CrmState(sites=("main", "other"))
    main = state.create("order", {"externalId": "O-1"}, "main", KEY)
    other = state.create("order", {"externalId": "O-1"}, "other", KEY)  # unique per site
    assert state.find("order", "O-1", "externalId", "other") is other
    assert state.find("order", "O-1", "externalId", None) is main
    state.edit("order", main, {"externalId": "O-9"}, KEY)  # as fix-external-ids does
    assert state.find("order", "O-9", "externalId", "main") is main
    assert state.find("order", "O-1", "externalId", "main") is None
    assert state.find("order", "O-1", "externalId", None) is other
    after = state.history["order"][0]["id"]
    assert [r["id"] for r in state.history_for("order", KEY, after, None)] == [
        r["id"] for r in state.history["order"][1:]
    ]
