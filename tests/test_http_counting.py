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
