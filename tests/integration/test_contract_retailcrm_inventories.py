"""CRM stock contract: the same assertions over real-shaped answers and the sandbox CRM.

``tests/fixtures/retailcrm/store_inventories*.json`` are ``store/inventories``
(with the per-store breakdown) and ``store/inventories/upload`` answers in the
shapes of shared/reference/retailcrm-api.md §2.4 (PHP client's StoreTest).
Each contract test runs over those and over the sandbox CRM's live answers;
then the retailcrm_inventory sink against the sandbox: 250 offers a call,
unknown offers, a refused call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from syncd.connectors.pacing import Pacer
from syncd.connectors.retailcrm.client import CrmClient
from syncd.connectors.retailcrm.inventories import not_found_ids
from syncd.connectors.retailcrm.transport import CrmTransport
from syncd.model import Command
from syncd_sandbox.crm_app import SandboxCrm
from tests.support.paths import FIXTURES
from tests.support.serve import serving

KEY = "sandbox-key-stock-00000"


@dataclass
class Answers:
    listing: dict
    upload: dict


def recorded() -> Answers:
    folder = FIXTURES / "retailcrm"
    return Answers(
        json.loads((folder / "store_inventories.json").read_text("utf-8")),
        json.loads((folder / "store_inventories_upload.json").read_text("utf-8")),
    )


def client(url: str) -> CrmClient:
    return CrmClient(CrmTransport(url, KEY, site="main", pacer=Pacer(1000), sleep=lambda s: None))


def sandbox() -> Answers:
    crm = SandboxCrm([KEY], requests_per_second=None)
    crm.inventories.add_offers(["A-00017", "A-00018"])
    with serving(crm) as url:
        transport = client(url).t
        offers = [
            {"externalId": "A-00017", "stores": [{"code": "main-store", "available": 10},
                                                 {"code": "pickup-point", "available": 3}]},
            {"externalId": "A-99999", "stores": [{"code": "main-store", "available": 1}]},
        ]  # fmt: skip
        upload = transport.post("store/inventories/upload", {"offers": offers})
        listing = transport.get("store/inventories", {"filter": {"details": 1}})
    return Answers(listing, upload)


@pytest.fixture(scope="module", params=["recorded shape", "sandbox"])
def answers(request: pytest.FixtureRequest) -> Answers:
    return recorded() if request.param == "recorded shape" else sandbox()


def test_an_upload_answers_the_count_processed_and_the_offers_not_found(answers):
    body = answers.upload
    assert body["success"] is True
    assert body["processedOffersCount"] == 1
    assert not_found_ids(body["notFoundOffers"]) == {"A-99999"}


def test_inventories_list_offers_with_their_stock_per_store(answers):
    body = answers.listing
    assert body["success"] is True and set(body["pagination"]) >= {"limit", "totalCount"}
    offer = next(o for o in body["offers"] if o["externalId"] == "A-00017")
    assert {"id", "externalId", "xmlId", "quantity", "stores"} <= set(offer)
    assert {s["store"]: s["quantity"] for s in offer["stores"]} == {
        "main-store": 10, "pickup-point": 3
    }  # fmt: skip
    assert offer["quantity"] == 13


# -- the sink against the sandbox --------------------------------------------------------


@pytest.fixture
def crm_world(tmp_path):
    from tests.support.daemon import parts_of
    from tests.support.stock import stock_parts

    crm = SandboxCrm([KEY], requests_per_second=None)
    with serving(crm) as url:
        parts = stock_parts()
        pipeline = parts_of(
            tmp_path,
            sources=[],
            extra={"flows": [], "sinks": parts["sinks"]},
            env={"SYNCD_CRM_URL": url, "SYNCD_CRM_API_KEY": KEY},
        )
        yield crm, pipeline.sinks["crm_stock"], url
        pipeline.close()


def inventory(n: int, offer: str, stores: list[dict]) -> Command:
    return Command(
        target="crm_stock",
        entity="inventory",
        key=offer,
        action="inventory",
        payload={"stores": stores},
        idempotency_key=f"t:{offer}",
        id=n,
    )


def test_the_sink_sends_250_offers_a_call_and_the_crm_keeps_each(crm_world):
    crm, sink, url = crm_world
    offers = [f"A-{i:05d}" for i in range(600)]
    crm.inventories.add_offers(offers)
    commands = [
        inventory(i + 1, o, [{"code": "main-store", "available": i}]) for i, o in enumerate(offers)
    ]
    results = sink.apply(commands)
    assert [r.command_id for r in results] == [c.id for c in commands] and all(
        r.ok for r in results
    )
    assert crm.inventories.uploads == 3  # 250 + 250 + 100
    listed = client(url).offer_stock(["A-00007", "A-00599"])
    assert {o["externalId"]: o["quantity"] for o in listed} == {"A-00007": 7, "A-00599": 599}


def test_an_offer_the_crm_lacks_is_done_and_counted_the_others_go_in(crm_world):
    crm, sink, _ = crm_world
    crm.inventories.add_offers(["A-1"])
    results = sink.apply(
        [
            inventory(1, "A-1", [{"code": "main-store", "available": 2}]),
            inventory(2, "nobody", [{"code": "main-store", "available": 5}]),
        ]
    )
    assert all(r.ok for r in results)
    assert crm.inventories.available("A-1") == {"main-store": 2.0}
    assert sink.warned == {"nobody"}


def test_a_refused_upload_fails_its_offers_for_good_with_the_crms_reason(crm_world):
    crm, sink, _ = crm_world
    crm.inventories.add_offers(["A-1"])
    (result,) = sink.apply([inventory(1, "A-1", [{"code": "no-such-store", "available": 2}])])
    assert not result.ok and result.permanent and "no-such-store" in result.error


def test_a_command_that_is_not_an_inventory_fails_for_good_naming_the_field(crm_world):
    _, sink, _ = crm_world
    (result,) = sink.apply([inventory(1, "A-1", [{"code": "main-store"}])])
    assert not result.ok and result.permanent and "available" in result.error
