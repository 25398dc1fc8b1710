"""The sandbox 1C's injected trouble: 503s, hangs that do nothing, writes answered late."""

from __future__ import annotations

import pytest
import requests

from syncd.connectors.onec.errors import ErpUnavailable
from syncd_sandbox.erp_faults import ErpFaults
from tests.support.erp import ORDERS, erp_client, erp_sandbox


def test_a_write_answered_late_is_done_though_the_client_gave_up():
    with erp_sandbox() as (app, url):
        order = app.state.rows(ORDERS)[0]
        app.faults = ErpFaults(late=1.0, hang_seconds=30)
        client = erp_client(url, timeout=(2.0, 0.5), attempts=1)
        client.metadata()  # a GET: not held back
        with pytest.raises(requests.Timeout):
            client.request(
                "PATCH",
                f"{ORDERS}(guid'{order['Ref_Key']}')",
                {"$format": "json"},
                {"Комментарий": "позвонить"},
            )
        app.faults.release()
        stored = app.state.get(ORDERS, (order["Ref_Key"],))
    assert stored["Комментарий"] == "позвонить" and app.faults.injected["late"] == 1


def test_a_hang_does_nothing_and_503s_come_as_web_server_pages():
    with erp_sandbox() as (app, url):
        order = app.state.rows(ORDERS)[0]
        app.faults = ErpFaults(hang=1.0, hang_seconds=30)
        client = erp_client(url, timeout=(2.0, 0.5), attempts=1)
        with pytest.raises(requests.Timeout):
            client.request(
                "PATCH",
                f"{ORDERS}(guid'{order['Ref_Key']}')",
                {"$format": "json"},
                {"Комментарий": "позвонить"},
            )
        app.faults.release()
        unchanged = app.state.get(ORDERS, (order["Ref_Key"],))
        app.faults = ErpFaults(unavailable=1.0)
        with pytest.raises(ErpUnavailable, match="503"):
            client.get_json(f"{ORDERS}(guid'{order['Ref_Key']}')")
    assert unchanged["Комментарий"] == order["Комментарий"]
