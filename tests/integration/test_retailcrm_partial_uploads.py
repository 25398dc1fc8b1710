"""Uploads that go in only in part, end to end: outbox → CRM sink → sandbox → bindings or
dead letters, in both answer forms; no item is lost, every failure names its externalId."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from syncd.engine.applying import apply_claims, claim_for
from syncd.engine.retry import RetryPolicy
from syncd.model import Command
from syncd.store import Store, bindings, dead_letters, outbox
from syncd_sandbox.crm_app import SandboxCrm
from tests.support.daemon import parts_of
from tests.support.serve import serving

KEY = "partial-upload-key-0000"


def upsert(n: int, key: str, **payload) -> Command:
    return Command("crm", "order", key, "upsert", payload or {"status": "new"}, f"u{n}", id=n)


def apply_through_the_engine(tmp_path: Path, url: str, commands: list[Command]) -> Store:
    """Enqueue the commands and run one apply round of the CRM sink against ``url``."""
    extra = {"flows": [], "sinks": {"crm": {"kind": "retailcrm", "system": "crm", "options": {}}}}
    env = {"SYNCD_CRM_URL": url, "SYNCD_CRM_API_KEY": KEY, "SYNCD_CRM_SITE": "main"}
    sink = parts_of(tmp_path, extra=extra, env=env).sinks["crm"]
    store = Store.open(f"sqlite:///{tmp_path}/parts.db")
    store.upgrade()
    with store.begin() as conn:
        outbox.enqueue(conn, commands)
    claims = claim_for(store, sink, "test", claim_ttl=60)
    assert len(claims) == len(commands)
    apply_claims(store, sink, claims, RetryPolicy())
    return store


def outcome(store: Store, keys: list[str]) -> tuple[dict, dict, dict]:
    """What the store holds after the round: CRM ids bound, dead letters by key, what is left."""
    with store.read() as conn:
        bound = {k: b.remote_id for k in keys if (b := bindings.get(conn, "crm", "order", k))}
        letters = {
            letter.subject.rsplit("/", 1)[-1]: letter for letter in dead_letters.list_open(conn)
        }
        left = outbox.counts(conn)
    return bound, letters, left


@pytest.mark.parametrize("form", [200, 460])
def test_applied_already_there_and_refused_items_each_end_their_own_way(tmp_path, form):
    app = SandboxCrm([KEY], requests_per_second=None, partial_upload_status=form)
    there = app.state.create("order", {"externalId": "B", "firstName": "Старое"}, "main", "user")
    commands = [
        upsert(1, "A"),
        upsert(2, "B", status="new", firstName="Новое"),
        upsert(3, "C", status="no-such-status"),
    ]
    with serving(app) as url:
        store = apply_through_the_engine(tmp_path, url, commands)
    bound, letters, left = outcome(store, ["A", "B", "C"])
    a = app.state.find("order", "A", "externalId", "main")
    assert bound == {"A": str(a["id"]), "B": str(there["id"])}  # B linked, not duplicated
    assert there["firstName"] == "Новое" and len(app.state.records["order"]) == 2
    assert set(letters) == {"C"}
    error = letters["C"].error
    assert error.startswith("order externalId=C: ") and "Status not found" in error
    assert left.get("pending", 0) == 0 and left.get("dead") == 1
    store.dispose()


def rewriting_uploads(app: SandboxCrm, edit: Callable[[dict], None]):  # noqa: ANN201
    """The sandbox behind a proxy that edits each upload answer: a CRM that forgets an item."""

    def proxied(environ: dict, start_response):  # noqa: ANN001, ANN202
        captured: dict = {}

        def keep(status: str, headers: list) -> None:
            captured["status"], captured["headers"] = status, headers

        payload = b"".join(app(environ, keep))
        if environ.get("PATH_INFO", "").endswith("/upload"):
            body = json.loads(payload)
            edit(body)
            payload = json.dumps(body).encode()
        headers = [(k, v) for k, v in captured["headers"] if k != "Content-Length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(payload)))])
        return [payload]

    proxied.max_body_bytes = app.max_body_bytes  # type: ignore[attr-defined]
    return proxied


def test_an_item_the_answer_names_nowhere_is_found_by_external_id_or_sent_alone(tmp_path):
    app = SandboxCrm([KEY], requests_per_second=None)  # the recorded 200 form

    def forget(body: dict) -> None:
        body["uploadedOrders"] = [u for u in body["uploadedOrders"] if u["externalId"] != "A"]
        body["orders"] = [o for o in body["orders"] if o["externalId"] != "A"]
        body.pop("failedOrders", None)  # and C's refusal is not mentioned either

    commands = [upsert(1, "A"), upsert(2, "B"), upsert(3, "C", status="no-such-status")]
    with serving(rewriting_uploads(app, forget)) as url:
        store = apply_through_the_engine(tmp_path, url, commands)
    bound, letters, left = outcome(store, ["A", "B", "C"])
    ids = {o["externalId"]: str(o["id"]) for o in app.state.records["order"].values()}
    assert bound == {"A": ids["A"], "B": ids["B"]}  # A went in: found and bound, not created twice
    assert sorted(ids) == ["A", "B"]
    (error,) = [letters["C"].error]
    assert error.startswith("order externalId=C: the orders/upload answer")
    assert "named it neither uploaded nor failed" in error
    assert "sent alone, orders/create refused it" in error and "Status not found" in error
    assert left.get("pending", 0) == 0
    store.dispose()


def test_the_sandbox_command_offers_both_answer_forms():
    from click.testing import CliRunner

    from cli import main

    shown = CliRunner().invoke(main, ["sandbox", "crm", "--help"])
    assert shown.exit_code == 0 and "--partial-uploads [200|460]" in shown.output
