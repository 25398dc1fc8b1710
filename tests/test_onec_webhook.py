"""``/webhooks/1c``: an authenticated nudge for every stream that reads the named set."""

from __future__ import annotations

import io
import json

from syncd.config import load_settings
from syncd.engine.daemon import Engine
from syncd.web import WebApp
from tests.support.daemon import write_config
from tests.support.erp import ORDERS, erp_env, erp_sandbox, exchange_source, window_source

SECRET = "test-webhook-secret-123"


def post(app: WebApp, body: bytes, token: str | None = SECRET) -> tuple[str, dict]:
    seen = {}
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/webhooks/1c",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
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
            engine._next_run[name] = 10**12
        order = erp.state.rows(ORDERS)[0]["Ref_Key"]
        body = json.dumps({"type": ORDERS, "ref": order}).encode("utf-8-sig")  # 1C 8.2 BOM

        status, _ = post(app, body, token=None)
        assert status.startswith("401") and engine._next_run["erp_changes"] == 10**12

        status, reply = post(app, body)
        assert status.startswith("202") and reply["streams"] == 1
        assert engine._next_run["erp_changes"] == 0.0 and engine._next_run["erp_catalog"] == 10**12

        status, reply = post(app, b'{"ref": "x"}')
        assert status.startswith("400")
        status, reply = post(app, json.dumps({"type": ORDERS, "ref": "not-a-guid"}).encode())
        assert status.startswith("400") and "GUID" in reply["error"]
