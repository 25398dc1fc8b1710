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
