"""Our own writes to the CRM never come back as events; a manager's change does.

Against the sandbox CRM over loopback, with and without externalId.
"""

from __future__ import annotations

from syncd.config import load_settings
from syncd.engine.contracts import PartContext
from syncd.engine.pipeline import build_pipeline
from syncd.metrics import Metrics
from syncd.model import Command
from syncd_sandbox.crm_app import SandboxCrm
from tests.support.crm import history_source
from tests.support.daemon import write_config
from tests.support.serve import serving

KEY = "sandbox-key-syncd-000"


def parts(tmp_path, url):
    config = write_config(
        tmp_path,
        f"sqlite:///{tmp_path}/s.db",
        sources=[history_source(start="2000-01-01 00:00:00")],
        extra={
            "sinks": {
                "out": {"kind": "directory", "system": "files", "options": {"path": str(tmp_path)}},
                "crm": {"kind": "retailcrm", "system": "crm"},
            }
        },
    )
    settings = load_settings(
        config, {"SYNCD_CRM_URL": url, "SYNCD_CRM_API_KEY": KEY, "SYNCD_CRM_SITE": "main"}
    )
    pipeline = build_pipeline(settings, PartContext(settings, Metrics()))
    return pipeline.sources["crm_orders"], pipeline.sinks["crm"]


def test_own_writes_are_not_events_with_or_without_external_id_but_a_managers_are(tmp_path):
    app = SandboxCrm([KEY], requests_per_second=None)
    with serving(app) as url:
        source, sink = parts(tmp_path, url)
        # syncd writes: an ERP order by externalId, then a status edit
        sink.apply([Command("crm", "order", "ERP-1", "upsert", {"status": "new"}, "k1", id=1)])
        sink.apply([Command("crm", "order", "ERP-1", "edit", {"status": "assembling"}, "k2", id=2)])
        # and an order without externalId, created with syncd's key (a CRM-born order)
        born = sink.client.create_order({"firstName": "Олег"})
        sink.client.edit_order(born["id"], {"status": "client-confirmed"}, by="id")

        batches = list(source.poll(None))
        assert [e for b in batches for e in b.events] == []
        cursor = batches[-1].cursor
        # four order history records read, all our own; history ids are shared with the
        # customers the account created for the two orders, so the last one is not 4
        assert len(app.state.history["order"]) == 4
        assert cursor["since_id"] == app.state.history["order"][-1]["id"]

        # a manager changes both orders in the CRM
        for key, by in (("ERP-1", "externalId"), (str(born["id"]), "id")):
            order = app.state.find("order", key, by, "main")
            app.state.edit("order", order, {"status": "complete"}, author="user")
        events = [e for b in source.poll(cursor) for e in b.events]
    assert sorted(e.external_id for e in events) == sorted(
        [str(app.state.find("order", "ERP-1", "externalId", "main")["id"]), str(born["id"])]
    )
    assert all(e.payload["status"] == "complete" for e in events)


def customer_history(tmp_path, url: str):  # noqa: ANN201
    """A customers history source of the sandbox account, built from a config."""
    config = write_config(
        tmp_path,
        f"sqlite:///{tmp_path}/s.db",
        sources=[history_source("crm_customers", entity="customer", start="2000-01-01 00:00:00")],
    )
    settings = load_settings(config, {"SYNCD_CRM_URL": url, "SYNCD_CRM_API_KEY": KEY})
    return build_pipeline(settings, PartContext(settings, Metrics())).sources["crm_customers"]


def test_a_customer_merged_away_by_a_manager_arrives_as_a_tombstone(tmp_path):
    app = SandboxCrm([KEY], requests_per_second=None)
    keep = app.state.create("customer", {"firstName": "Анна"}, "main", author="user")
    dup = app.state.create("customer", {"firstName": "Анна", "externalId": "p-2"}, "main", "user")
    with serving(app) as url:
        source = customer_history(tmp_path, url)
        cursor = list(source.poll(None))[-1].cursor
        del app.state.records["customer"][dup["id"]]
        app.state.record_deleted("customer", dup, "user", combined_to=keep["id"])
        (event,) = [e for b in source.poll(cursor) for e in b.events]
    # the deleted record carries the whole customer, so its externalId comes along
    assert event.payload == {
        "id": dup["id"],
        "deleted": True,
        "combinedTo": keep["id"],
        "externalId": "p-2",
    }


def test_a_customer_created_by_a_manager_arrives_whole_from_its_created_record(tmp_path):
    app = SandboxCrm([KEY], requests_per_second=None)
    with serving(app) as url:
        source = customer_history(tmp_path, url)
        made = app.state.create("customer", {"firstName": "Вера"}, "main", author="user")
        (record,) = app.state.history["customer"]
        assert record["newValue"] == made["id"] and record["created"] is True
        (event,) = [e for b in source.poll(None) for e in b.events]
    assert event.external_id == str(made["id"]) and event.version == str(record["id"])
    assert event.payload["type"] == "customer" and event.payload["firstName"] == "Вера"
