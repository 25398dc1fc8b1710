"""``/webhooks/1c``: an authenticated nudge for every stream that reads the named set.

A nudge is checked before it is answered 202; one that passes but cannot be
read is a dead letter once, and the stream goes on.  No body gets a 500.
"""

from __future__ import annotations

import io
import json
import logging

from syncd.config import load_settings
from syncd.engine.daemon import Engine
from syncd.engine.sourcing import run_source
from syncd.store import dead_letters, inbox, leases
from syncd.web import WebApp
from tests.support.crm import history_source
from tests.support.daemon import write_config
from tests.support.erp import (
    ORDERS,
    STATES,
    erp_env,
    erp_sandbox,
    exchange_source,
    window_source,
)

SECRET = "test-webhook-secret-123"
CRM_ENV = {"SYNCD_CRM_URL": "http://127.0.0.1:9", "SYNCD_CRM_API_KEY": "k" * 24}


def post(
    app: WebApp,
    body: bytes,
    token: str | None = SECRET,
    path: str = "/webhooks/1c",
    content_type: str = "application/json",
) -> tuple[str, dict]:
    seen = {}
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    if token:
        environ["HTTP_X_SYNCD_TOKEN"] = token
    out = b"".join(app(environ, lambda status, headers: seen.setdefault("status", status)))
    return seen["status"], json.loads(out or b"{}")


def test_the_1c_webhook_nudges_the_streams_of_that_set_and_needs_the_secret(tmp_path, store):
    with erp_sandbox() as (erp, url):
        sources = [
            {**exchange_source(erp), "interval_seconds": 600},
            {
                **window_source("erp_catalog", set="Catalog_Номенклатура", entity="item"),
                "interval_seconds": 600,
            },
        ]
        config = write_config(
            tmp_path, "sqlite://", sources=sources, extra={"flows": [], "sinks": {}}
        )
        settings = load_settings(config, erp_env(url))
        engine = Engine(settings, config_path=str(config), store=store)
        app = WebApp(
            registry=engine.metrics.registry,
            readiness=engine.readiness,
            webhook_secret=lambda: SECRET,
        )
        engine.attach_web(app)
        for name in ("erp_changes", "erp_catalog"):
            engine.schedule.next_run[name] = 10**12
        order = erp.state.rows(ORDERS)[0]["Ref_Key"]
        body = json.dumps({"type": ORDERS, "ref": order}).encode("utf-8-sig")  # 1C 8.2 BOM

        status, _ = post(app, body, token=None)
        assert status.startswith("401") and engine.schedule.next_run["erp_changes"] == 10**12

        status, reply = post(app, body)
        assert status.startswith("202") and reply["streams"] == 1
        next_run = engine.schedule.next_run
        assert next_run["erp_changes"] == 0.0 and next_run["erp_catalog"] == 10**12

        status, reply = post(app, b'{"ref": "x"}')
        assert status.startswith("400")
        status, reply = post(app, json.dumps({"type": ORDERS, "ref": "not-a-guid"}).encode())
        assert status.startswith("400") and "GUID" in reply["error"]


def serving(tmp_path, store, url: str, sources: list[dict]) -> tuple[Engine, WebApp]:
    """An engine with these sources (not due for a long while) and its web app."""
    config = write_config(tmp_path, "sqlite://", sources=sources, extra={"flows": [], "sinks": {}})
    engine = Engine(load_settings(config, {**erp_env(url), **CRM_ENV}), store=store)
    app = WebApp(
        registry=engine.metrics.registry, readiness=engine.readiness, webhook_secret=lambda: SECRET
    )
    engine.attach_web(app)
    for name in engine.pipeline.sources:
        engine.schedule.next_run[name] = 10**12
    return engine, app


def run_stream(engine: Engine, store, name: str = "erp_changes"):
    with store.begin() as conn:
        lease = leases.acquire(conn, f"source:{name}", "test", ttl=60)
    return run_source(store, engine.pipeline.sources[name], lease)


def test_a_burst_of_webhooks_is_read_by_one_poll_webhook_gap_seconds_after_the_last(
    tmp_path, store
):
    with erp_sandbox() as (erp, url):
        engine, app = serving(
            tmp_path, store, url, [{**exchange_source(erp), "interval_seconds": 600}]
        )
        gap = engine.settings.engine.webhook_gap_seconds
        assert gap == 1.0  # the default
        order = erp.state.rows(ORDERS)[0]["Ref_Key"]
        body = json.dumps({"type": ORDERS, "ref": order}).encode()
        started = 1_000_000.0
        engine.schedule.last_start["erp_changes"] = started  # the stream's last poll began then
        for _ in range(3):  # a burst: each webhook asks for the same one poll
            assert post(app, body)[0].startswith("202")
            assert engine.schedule.next_run["erp_changes"] == started + gap
        engine.schedule.next_run["erp_changes"] = 10**12  # that poll ran; the next is far off
        engine.schedule.last_start["erp_changes"] = started + gap
        assert post(app, body)[0].startswith("202")
        assert engine.schedule.next_run["erp_changes"] == started + 2 * gap


def letters(store) -> list:
    with store.read() as conn:
        return dead_letters.list_open(conn)


def test_a_nudge_whose_ref_key_is_no_guid_is_refused_and_never_stops_the_stream(tmp_path, store):
    # issue 13 case 2: this body was accepted (202), and from then on every poll of the
    # exchange stream failed ("badly formed hexadecimal UUID string") until a restart
    with erp_sandbox() as (erp, url):
        engine, app = serving(tmp_path, store, url, [exchange_source(erp)])
        bad = json.dumps({"type": ORDERS, "key": {"Ref_Key": "not-a-guid"}}).encode()

        status, reply = post(app, bad)
        assert status.startswith("400"), reply
        assert "key.Ref_Key" in reply["error"] and "GUID" in reply["error"]
        runs = [run_stream(engine, store), run_stream(engine, store)]
        assert [run.ok for run in runs] == [True, True]

        status, reply = post(app, bad)  # $metadata read now: checked against it
        assert status.startswith("400") and "key.Ref_Key" in reply["error"]
        assert run_stream(engine, store).ok and letters(store) == []


def test_a_nudge_1c_cannot_read_is_dead_lettered_once_and_the_stream_goes_on(tmp_path, store):
    with erp_sandbox() as (erp, url):
        spec = exchange_source(erp, nudge_rereads_per_poll=10)
        engine, app = serving(tmp_path, store, url, [spec])
        order = erp.state.rows(ORDERS)[0]["Ref_Key"]
        # before the stream has read $metadata only the documented shape can be checked:
        # a register record's key with one of its two fields missing gets in
        body = json.dumps(
            [{"type": STATES, "key": {"Заказ": order}}, {"type": ORDERS, "ref": order}]
        ).encode()
        status, reply = post(app, body)
        assert status.startswith("202") and reply["streams"] == 1

        first, second = run_stream(engine, store), run_stream(engine, store)

        assert first.ok and second.ok  # the exchange plan is read on, poll after poll
        (letter,) = letters(store)
        assert letter.origin == "erp_changes" and STATES in letter.subject
        assert "Заказ_Type" in letter.error
        with store.read() as conn:
            ids = {r[0] for r in conn.exec_driver_sql("SELECT external_id FROM inbox").all()}
        assert order in ids  # the good nudge in the same call was read
        status, reply = post(app, body)  # now $metadata says which fields make the key
        assert status.startswith("400") and "missing key.Заказ_Type" in reply["error"]


def test_a_nudge_for_a_set_no_source_reads_is_answered_as_ignored(tmp_path, store):
    with erp_sandbox() as (erp, url):
        engine, app = serving(tmp_path, store, url, [exchange_source(erp)])
        ref = erp.state.rows(ORDERS)[0]["Ref_Key"]

        status, reply = post(app, json.dumps({"type": "Document_Реализация", "ref": ref}).encode())
        assert status.startswith("200"), reply
        assert reply["ignored"] == ["no source reads Document_Реализация"]
        assert reply["streams"] == 0 and engine.schedule.next_run["erp_changes"] == 10**12

        both = [{"type": ORDERS, "ref": ref}, {"type": "Document_Реализация", "ref": ref}]
        status, reply = post(app, json.dumps(both).encode())
        assert status.startswith("202") and reply["streams"] == 1
        assert reply["ignored"] == ["no source reads Document_Реализация"]


def test_no_webhook_body_is_a_500(tmp_path, store, caplog):
    # issue 13 case 7: a body nested 50,000 deep answered 500 with an ERROR traceback
    caplog.set_level(logging.ERROR)
    deep = b"[" * 50_000 + b"]" * 50_000
    deep_object = b'{"type": ' * 50_000 + b"1" + b"}" * 50_000
    with erp_sandbox() as (erp, url):
        engine, app = serving(tmp_path, store, url, [exchange_source(erp), history_source()])
        for path in ("/webhooks/1c", "/webhooks/retailcrm"):
            for body in (deep, deep_object):
                status, reply = post(app, body, path=path)
                assert status.startswith("400"), (path, status)
                assert "nests deeper than" in reply["error"]
            status, _ = post(app, deep, path=path, content_type="text/plain")
            assert status.startswith("400")
            odd = [b"\xff\xfe\x00\x01", b"null", b"{}", b"[]", b"1e99999", b'"x"', b"[[[[]]]]"]
            for body in [*odd, b"a=" + b"&a=" * 100_000, "заказ=1".encode("cp1251")]:
                for content_type in ("application/json", "application/x-www-form-urlencoded"):
                    status, _ = post(app, body, path=path, content_type=content_type)
                    assert status[:3] in ("202", "400"), (path, body[:20], status)
        with store.read() as conn:
            assert inbox.count_pending(conn) == 0
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
