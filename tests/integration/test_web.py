"""The HTTP surface: health, readiness, metrics and authenticated webhooks.

Most tests talk to a real waitress server on 127.0.0.1 over loopback; the
Content-Length edge cases waitress would reject itself are driven through the
WSGI app directly.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from prometheus_client import CollectorRegistry, Counter

from syncd.web import HttpServer, WebApp, WebhookRequest

SECRET = "hook-secret-0123"


@dataclass
class Harness:
    url: str
    app: WebApp
    http: requests.Session
    calls: list[WebhookRequest] = field(default_factory=list)
    secret: list[str | None] = field(default_factory=lambda: [SECRET])
    ready: list[Any] = field(default_factory=lambda: [(True, {"cycle_age": 1.5})])

    def post(self, path: str, body: bytes = b'{"id": 1}', **kw: Any) -> requests.Response:
        return self.http.post(self.url + path, data=body, timeout=5, **kw)


@pytest.fixture
def web() -> Iterator[Harness]:
    registry = CollectorRegistry()
    Counter("syncd_test_events", "events seen by the test", registry=registry).inc(3)
    holder: dict[str, Harness] = {}

    def readiness() -> tuple[bool, dict]:
        value = holder["h"].ready[0]
        if isinstance(value, Exception):
            raise value
        return value

    app = WebApp(
        registry=registry,
        readiness=readiness,
        webhook_secret=lambda: holder["h"].secret[0],
        max_body_bytes=1000,
    )
    server = HttpServer(app, "127.0.0.1:0")
    server.start()
    http = requests.Session()
    http.trust_env = False  # never route loopback through a proxy from the environment
    harness = Harness(url=f"http://127.0.0.1:{server.port}", app=app, http=http)
    holder["h"] = harness

    def handler(request: WebhookRequest) -> tuple[int, dict]:
        harness.calls.append(request)
        data = request.json()
        if data.get("fail") == "value":
            raise ValueError("field 'x' is required")
        if data.get("fail") == "crash":
            raise RuntimeError(f"db down, body was {request.body!r}")
        return 202, {"accepted": data.get("id")}

    app.add_webhook("/webhooks/erp", handler)
    app.add_webhook("/webhooks/crm", handler, allow_query_token=True)
    yield harness
    http.close()
    server.stop()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# -- health, readiness, metrics ----------------------------------------------
def test_healthz(web: Harness) -> None:
    response = web.http.get(web.url + "/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["Content-Type"] == "application/json"


def test_readyz_ready_and_not_ready(web: Harness) -> None:
    response = web.http.get(web.url + "/readyz", timeout=5)
    assert (response.status_code, response.json()) == (200, {"status": "ready", "cycle_age": 1.5})

    web.ready[0] = (False, {"cycle_age": 900.0, "status": "spoofed"})
    response = web.http.get(web.url + "/readyz", timeout=5)
    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "cycle_age": 900.0}


def test_readyz_exception_gives_class_name_only(web: Harness) -> None:
    web.ready[0] = ConnectionError("postgresql://syncd:pa55@db/syncd unreachable")
    response = web.http.get(web.url + "/readyz", timeout=5)
    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "error": "ConnectionError"}
    assert "pa55" not in response.text


def test_metrics_exposes_the_registry(web: Harness) -> None:
    response = web.http.get(web.url + "/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "syncd_test_events_total 3.0" in response.text


def test_unknown_path_and_wrong_methods(web: Harness) -> None:
    response = web.http.get(web.url + "/nope", timeout=5)
    assert (response.status_code, response.json()) == (404, {"error": "not found"})

    response = web.http.get(web.url + "/webhooks/erp", timeout=5)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"

    response = web.http.post(web.url + "/healthz", timeout=5)
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert web.calls == []


# -- webhook authentication ------------------------------------------------------
def test_webhook_without_credentials_is_refused_unhandled(web: Harness) -> None:
    response = web.post("/webhooks/erp")
    assert (response.status_code, response.json()) == (401, {"error": "unauthorized"})
    assert web.calls == []


def test_wrong_token_is_refused(web: Harness) -> None:
    for headers in (
        {"X-Syncd-Token": SECRET + "x"},
        {"X-Syncd-Token": ""},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {SECRET}"},
        {"X-Syncd-Signature": sign(b"other body")},
    ):
        assert web.post("/webhooks/erp", headers=headers).status_code == 401, headers
    assert web.calls == []


def test_token_header_reaches_the_handler(web: Harness) -> None:
    response = web.post(
        "/webhooks/erp?since=5",
        body=b'{"id": 42}',
        headers={"X-Syncd-Token": SECRET, "Content-Type": "application/json", "X-Extra": "y"},
    )
    assert (response.status_code, response.json()) == (202, {"accepted": 42})
    (request,) = web.calls
    assert request.path == "/webhooks/erp"
    assert request.body == b'{"id": 42}'
    assert request.headers["x-extra"] == "y"
    assert request.headers["content-type"] == "application/json"
    assert request.query == {"since": ["5"]}
    assert request.remote_addr == "127.0.0.1"


def test_bearer_token(web: Harness) -> None:
    response = web.post("/webhooks/erp", headers={"Authorization": f"Bearer {SECRET}"})
    assert response.status_code == 202
    assert len(web.calls) == 1


def test_hmac_signature_and_tampered_body(web: Harness) -> None:
    body = b'{"id": 7}'
    assert web.post(
        "/webhooks/erp", body=body, headers={"X-Syncd-Signature": sign(body)}
    ).json() == {"accepted": 7}
    upper = "sha256=" + sign(body)[7:].upper()
    assert web.post("/webhooks/erp", body=body, headers={"X-Syncd-Signature": upper}).ok

    tampered = web.post(
        "/webhooks/erp", body=b'{"id": 8}', headers={"X-Syncd-Signature": sign(body)}
    )
    assert tampered.status_code == 401
    assert [r.body for r in web.calls] == [body, body]


def test_query_token_only_where_the_route_allows_it(web: Harness) -> None:
    assert web.post(f"/webhooks/erp?token={SECRET}").status_code == 401
    assert web.calls == []

    assert web.post(f"/webhooks/crm?token={SECRET}").status_code == 202
    assert web.post("/webhooks/crm?token=wrong").status_code == 401
    assert len(web.calls) == 1


def test_form_token_only_where_the_route_allows_it(web: Harness) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    body = f"token={SECRET}&order=5".encode()
    assert web.post("/webhooks/erp", body=body, headers=form).status_code == 401
    assert web.calls == []

    def form_handler(request: WebhookRequest) -> tuple[int, dict]:
        web.calls.append(request)
        return 200, {"order": request.form()["order"]}

    web.app.add_webhook("/webhooks/form", form_handler, allow_query_token=True)
    response = web.post("/webhooks/form", body=body, headers=form)
    assert (response.status_code, response.json()) == (200, {"order": ["5"]})


def test_no_secret_configured_fails_closed(web: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="syncd.web")
    for secret in (None, ""):
        web.secret[0] = secret
        for headers in ({}, {"X-Syncd-Token": ""}, {"X-Syncd-Signature": sign(b"x", "")}):
            assert web.post("/webhooks/erp", body=b"x", headers=headers).status_code == 401
    assert web.calls == []
    warnings = [r for r in caplog.records if "no webhook secret" in r.getMessage()]
    assert len(warnings) == 1


def test_reloaded_secret_is_used_at_once(web: Harness) -> None:
    assert web.post("/webhooks/erp", headers={"X-Syncd-Token": SECRET}).status_code == 202
    web.secret[0] = "rotated-secret-99"
    assert web.post("/webhooks/erp", headers={"X-Syncd-Token": SECRET}).status_code == 401
    new = {"X-Syncd-Token": "rotated-secret-99"}
    assert web.post("/webhooks/erp", headers=new).status_code == 202
    assert len(web.calls) == 2


# -- bodies and handler failures ------------------------------------------------
def test_oversize_body_is_refused_unhandled(web: Harness) -> None:
    auth = {"X-Syncd-Token": SECRET}
    assert web.post("/webhooks/erp", body=b"{}".ljust(1000), headers=auth).status_code == 202
    assert web.post("/webhooks/erp", body=b"{}".ljust(1001), headers=auth).status_code == 413
    # Far over the cap waitress itself refuses it before buffering the body.
    assert web.post("/webhooks/erp", body=b"x" * 300_000, headers=auth).status_code == 413
    chunked = web.post("/webhooks/erp", body=iter([b"{}", b" " * 1500]), headers=auth)
    assert chunked.status_code == 413
    assert len(web.calls) == 1


def test_handler_value_error_is_400_and_crash_is_500(
    web: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    auth = {"X-Syncd-Token": SECRET}
    response = web.post("/webhooks/erp", body=b'{"fail": "value"}', headers=auth)
    assert (response.status_code, response.json()) == (400, {"error": "field 'x' is required"})

    response = web.post("/webhooks/erp", body=b"not json", headers=auth)
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]

    caplog.set_level(logging.ERROR, logger="syncd.web")
    response = web.post("/webhooks/erp", body=b'{"fail": "crash"}', headers=auth)
    assert (response.status_code, response.json()) == (500, {"error": "internal error"})
    assert "crash" not in response.text
    assert any(r.exc_info and r.exc_info[0] is RuntimeError for r in caplog.records)


def test_a_json_body_nested_too_deep_is_400_before_any_handler_sees_it(
    web: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    auth = {"X-Syncd-Token": SECRET}
    for body in (b"[" * 400 + b"]" * 400, b'{"a":' * 100 + b"1" + b"}" * 100):
        response = web.post("/webhooks/erp", body=body, headers=auth)
        assert response.status_code == 400
        assert response.json() == {"error": "request body nests deeper than 32 levels"}
    # brackets inside strings are text, not nesting
    response = web.post("/webhooks/erp", body=b'{"id": "' + b"[{" * 300 + b'"}', headers=auth)
    assert response.status_code == 202
    assert len(web.calls) == 1 and caplog.records == []


# -- registration and the server -----------------------------------------------
def test_add_webhook_validates_paths(web: Harness) -> None:
    with pytest.raises(ValueError, match="already registered"):
        web.app.add_webhook("/webhooks/erp", lambda r: (200, {}))
    for bad in ("/hooks/x", "webhooks/x", "/webhooks/"):
        with pytest.raises(ValueError):
            web.app.add_webhook(bad, lambda r: (200, {}))


def test_ipv6_loopback_listen() -> None:
    try:
        socket.socket(socket.AF_INET6, socket.SOCK_STREAM).close()
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    app = WebApp(
        registry=CollectorRegistry(), readiness=lambda: (True, {}), webhook_secret=lambda: None
    )
    server = HttpServer(app, "[::1]:0")
    server.start()
    try:
        assert server.port > 0
        http = requests.Session()
        http.trust_env = False
        assert http.get(f"http://[::1]:{server.port}/healthz", timeout=5).status_code == 200
    finally:
        server.stop()


def test_stop_releases_the_port() -> None:
    app = WebApp(
        registry=CollectorRegistry(), readiness=lambda: (True, {}), webhook_secret=lambda: None
    )
    server = HttpServer(app, "127.0.0.1:0")
    server.start()
    port = server.port
    keep_alive = requests.Session()
    keep_alive.trust_env = False
    assert keep_alive.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok
    server.stop()
    with pytest.raises(requests.ConnectionError):
        keep_alive.get(f"http://127.0.0.1:{port}/healthz", timeout=5)


@pytest.mark.parametrize("listen", ["127.0.0.1", "::1:80", "host:http", "1.2.3.4:70000"])
def test_bad_listen_values(listen: str) -> None:
    app = WebApp(
        registry=CollectorRegistry(), readiness=lambda: (True, {}), webhook_secret=lambda: None
    )
    with pytest.raises(ValueError):
        HttpServer(app, listen)


# -- the WSGI app directly: what waitress would never pass through ----------------
def call(app: WebApp, *, length: str | None, body: bytes, headers: dict | None = None) -> tuple:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/webhooks/x",
        "QUERY_STRING": "",
        "REMOTE_ADDR": "10.0.0.9",
        "wsgi.input": io.BytesIO(body),
        **(headers or {}),
    }
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    seen: dict[str, Any] = {}

    def start_response(status: str, response_headers: list) -> None:
        seen["status"], seen["headers"] = status, dict(response_headers)

    out = b"".join(app(environ, start_response))
    return seen["status"], json.loads(out), environ["wsgi.input"].tell()


@pytest.fixture
def direct() -> tuple[WebApp, list[bytes]]:
    calls: list[bytes] = []
    app = WebApp(
        registry=CollectorRegistry(),
        readiness=lambda: (True, {}),
        webhook_secret=lambda: SECRET,
        max_body_bytes=10,
    )
    app.add_webhook("/webhooks/x", lambda r: (calls.append(r.body), (200, {"n": len(r.body)}))[1])
    return app, calls


AUTH = {"HTTP_X_SYNCD_TOKEN": SECRET}


@pytest.mark.parametrize("length", ["abc", "-1", "+5", " 5x", "1_0"])
def test_malformed_content_length_is_400(direct: tuple, length: str) -> None:
    app, calls = direct
    status, payload, _ = call(app, length=length, body=b"12345", headers=AUTH)
    assert status == "400 Bad Request"
    assert "Content-Length" in payload["error"]
    assert calls == []


def test_declared_length_over_cap_is_413_unread(direct: tuple) -> None:
    app, calls = direct
    status, _, consumed = call(app, length="11", body=b"x" * 11, headers=AUTH)
    assert status == "413 Request Entity Too Large"
    assert consumed == 0  # refused on the header alone
    assert calls == []


def test_unknown_length_reads_at_most_one_byte_over(direct: tuple) -> None:
    app, calls = direct
    status, _, consumed = call(app, length=None, body=b"y" * 5000, headers=AUTH)
    assert status == "413 Request Entity Too Large"
    assert consumed == 11
    assert calls == []

    status, payload, _ = call(app, length=None, body=b"y" * 10, headers=AUTH)
    assert (status, payload) == ("200 OK", {"n": 10})
    status, payload, consumed = call(app, length="4", body=b"abcdEXTRA", headers=AUTH)
    assert (status, payload, consumed) == ("200 OK", {"n": 4}, 4)
    assert calls == [b"y" * 10, b"abcd"]


def test_webhook_request_parsers() -> None:
    request = WebhookRequest("/webhooks/x", b"a=1&a=2&b=", {}, {}, "")
    assert request.form() == {"a": ["1", "2"], "b": [""]}
    with pytest.raises(ValueError, match="not valid JSON"):
        request.json()
    with pytest.raises(ValueError, match="empty"):
        WebhookRequest("/webhooks/x", b"  ", {}, {}, "").json()
    assert WebhookRequest("/webhooks/x", b'{"a": [1]}', {}, {}, "").json() == {"a": [1]}
    deep = WebhookRequest("/webhooks/x", b"[" * 50_000 + b"]" * 50_000, {}, {}, "")
    with pytest.raises(ValueError, match="nests deeper than 32 levels"):
        deep.json()  # a ValueError (a 400), not a RecursionError (a 500)
