"""The RetailCRM trigger webhook: a form with the shared token nudges the history stream."""

from __future__ import annotations

import io
from urllib.parse import urlencode

from syncd.config import load_settings
from syncd.engine.daemon import Engine
from syncd.web import WebApp
from tests.support.crm import history_source
from tests.support.daemon import write_config

SECRET = "test-webhook-secret-123"


def post(app: WebApp, body: bytes, query: str = "") -> tuple[str, bytes]:
    seen = {}
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/webhooks/retailcrm",
        "QUERY_STRING": query,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    out = b"".join(app(environ, lambda status, headers: seen.setdefault("status", status)))
    return seen["status"], out


def test_the_trigger_form_with_the_token_nudges_and_without_it_is_refused(tmp_path, store, db_url):
    config = write_config(
        tmp_path,
        db_url,
        sources=[history_source(interval_seconds=600)],
    )
    settings = load_settings(
        config, {"SYNCD_CRM_URL": "http://127.0.0.1:9", "SYNCD_CRM_API_KEY": "k" * 24}
    )
    engine = Engine(settings, config_path=str(config), store=store)
    app = WebApp(
        registry=engine.metrics.registry, readiness=engine.readiness, webhook_secret=lambda: SECRET
    )
    engine.attach_web(app)
    engine.schedule.next_run["crm_orders"] = 10**12  # not due for a long while

    status, _ = post(app, urlencode({"order_id": "77"}).encode())
    assert status.startswith("401") and engine.schedule.next_run["crm_orders"] == 10**12

    status, body = post(app, urlencode({"order_id": "77", "token": SECRET}).encode())
    assert status.startswith("202") and b'"accepted": 0' in body
    assert engine.schedule.next_run["crm_orders"] == 0.0  # runs at the next iteration
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM inbox").scalar_one() == 0
