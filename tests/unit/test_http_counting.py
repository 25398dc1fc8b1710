"""Outgoing requests are counted by system and status code (responses-mocked)."""

from __future__ import annotations

import pytest
import requests
import responses

from syncd.connectors.http import counted_session
from syncd.metrics import Metrics


def count(metrics: Metrics, system: str, code: str) -> float:
    value = metrics.registry.get_sample_value(
        "syncd_http_requests_total", {"system": system, "code": code}
    )
    return value or 0.0


@responses.activate
def test_responses_and_failures_are_counted_per_code():
    responses.get("https://crm.example/api/v5/orders", json={"success": True})
    responses.get("https://crm.example/api/v5/missing", status=404)
    responses.get("https://crm.example/api/v5/down", body=requests.ConnectionError("refused"))
    metrics = Metrics()
    session = counted_session("crm", metrics)
    session.get("https://crm.example/api/v5/orders")
    session.get("https://crm.example/api/v5/orders")
    session.get("https://crm.example/api/v5/missing")
    with pytest.raises(requests.ConnectionError):
        session.get("https://crm.example/api/v5/down")
    assert count(metrics, "crm", "200") == 2
    assert count(metrics, "crm", "404") == 1
    assert count(metrics, "crm", "error") == 1
    assert count(metrics, "erp", "200") == 0


def test_the_environment_s_proxy_and_ca_bundle_still_apply_read_once_per_host(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "erp.local")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/company-ca.pem")
    session = counted_session("crm", None)
    crm = session.merge_environment_settings(
        "https://crm.example/api/v5/orders", {}, None, None, None
    )
    assert crm["proxies"]["https"] == "http://proxy.example:3128"
    assert crm["verify"] == "/etc/ssl/company-ca.pem"
    erp = session.merge_environment_settings("https://erp.local/odata/x", {}, None, None, None)
    assert "https" not in erp["proxies"]  # NO_PROXY names it
    # the daemon's environment is read the first time a host is called, not per request
    monkeypatch.setenv("HTTPS_PROXY", "http://other.example:8080")
    again = session.merge_environment_settings("https://crm.example/api/v5/x", {}, None, None, None)
    assert again["proxies"]["https"] == "http://proxy.example:3128"
    # what a caller passes still wins over the environment
    own = session.merge_environment_settings(
        "https://crm.example/api/v5/x", {"https": "http://mine:1"}, None, False, None
    )
    assert own["proxies"]["https"] == "http://mine:1" and own["verify"] is False


def test_no_netrc_is_read_for_credentials(monkeypatch, tmp_path):
    (tmp_path / ".netrc").write_text("machine crm.example login u password secret-p\n")
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))
    monkeypatch.setenv("HOME", str(tmp_path))
    session = counted_session("crm", None)
    prepared = session.prepare_request(requests.Request("GET", "https://crm.example/api/v5/x"))
    assert "Authorization" not in prepared.headers


PLAIN_REQUESTS = [
    ("GET", "https://crm.example/api/v5/orders?filter%5Bids%5D%5B%5D=1&limit=100", {}),
    ("POST", "https://crm.example/api/v5/orders/upload", {"data": {"orders": '[{"a":"Ж"}]'}}),
    (
        "PATCH",
        "http://erp.local:8080/odata/standard.odata/Document_%D0%97(guid'0f3a')?$format=json",
        {"json": {"Статус": "КОтгрузке"}, "headers": {"Accept": "application/json"}},
    ),
    ("POST", "http://erp.local/odata/Document_X(guid'1')/Post", {"headers": {"X-Drop": None}}),
    ("DELETE", "http://erp.local/odata/X", {"data": "raw body", "headers": {"Content-Type": "t"}}),
]


@pytest.mark.parametrize(("method", "url", "kwargs"), PLAIN_REQUESTS)
def test_a_plain_request_goes_out_as_requests_would_prepare_it(method, url, kwargs):
    """The short way of preparing syncd's own requests sends what requests' own way does:
    method, URL, every header (session's, the call's, auth, length, type) and body."""
    sent = []
    session = counted_session("erp", None)
    session.auth = ("Администратор".encode(), "пароль".encode())
    session.headers["X-API-KEY"] = "key"
    session.headers["X-Drop"] = "session value the call removes"
    session.send = lambda request, **kw: sent.append(request)  # type: ignore[method-assign]
    session.prepare_request = None  # type: ignore[assignment]  # the long way would fail here
    session.request(method, url, timeout=5, **kwargs)
    reference = requests.Session()
    reference.auth, reference.headers = session.auth, session.headers
    expected = reference.prepare_request(requests.Request(method, url, **kwargs))
    (got,) = sent
    assert (got.method, got.url, got.body) == (expected.method, expected.url, expected.body)
    assert dict(got.headers) == dict(expected.headers)


@responses.activate
def test_a_cookie_a_server_set_goes_back_with_the_next_request():
    """A session cookie (a load balancer's, say) is honoured: requests' own way then."""
    responses.get(
        "https://erp.local/odata/a", json={}, headers={"Set-Cookie": "ibsession=abc; Path=/"}
    )
    responses.get("https://erp.local/odata/b", json={})
    session = counted_session("erp", None)
    session.get("https://erp.local/odata/a")
    session.get("https://erp.local/odata/b")
    assert responses.calls[1].request.headers["Cookie"] == "ibsession=abc"


@responses.activate
def test_a_redirect_is_followed_on_the_short_way_too():
    responses.get("https://erp.local/old", status=302, headers={"Location": "/new"})
    responses.get("https://erp.local/new", json={"ok": 1})
    session = counted_session("erp", None)
    assert session.get("https://erp.local/old").json() == {"ok": 1}
