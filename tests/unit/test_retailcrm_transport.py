"""RetailCRM transport: auth, encoding, envelope, typed errors, retries, pacing."""

from __future__ import annotations

import json
import threading
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError

from syncd.connectors.pacing import Pacer
from syncd.connectors.retailcrm.errors import (
    CrmAccessDenied,
    CrmAccountMissing,
    CrmNoAnswer,
    CrmNotFound,
    CrmPartialUpload,
    CrmRateLimited,
    CrmServerError,
    CrmValidationError,
)
from syncd.connectors.retailcrm.timeouts import CrmTimeouts
from syncd.connectors.retailcrm.transport import CrmTransport, bracket_params
from syncd.connectors.rounds import Deadline, DeadlinePassed
from syncd.errors import PermanentError, TransientError
from syncd.metrics import Metrics
from tests.support.crm import partial_upload

URL = "https://shop.retailcrm.test"
API = URL + "/api/v5/"
KEY = "secret-api-key-0123456789"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def client(**kwargs) -> CrmTransport:
    clock = FakeClock()
    kwargs.setdefault("pacer", Pacer(10, clock=clock, sleep=clock.sleep))
    kwargs.setdefault("sleep", lambda s: None)
    return CrmTransport(URL, KEY, **kwargs)


@responses.activate
def test_get_sends_the_key_in_a_header_and_filters_in_bracket_form():
    responses.get(API + "orders", json={"success": True, "orders": []})
    client().get(
        "orders", {"filter": {"ids": [1, 2], "customFields": {"nps": {"min": 5}}}, "limit": 100}
    )
    request = responses.calls[0].request
    assert request.headers["X-API-KEY"] == KEY
    assert KEY not in request.url
    assert parse_qsl(urlsplit(request.url).query) == [
        ("filter[ids][]", "1"),
        ("filter[ids][]", "2"),
        ("filter[customFields][nps][min]", "5"),
        ("limit", "100"),
    ]


@responses.activate
def test_post_is_form_encoded_with_entities_as_json_strings():
    responses.post(API + "orders/upload", json={"success": True, "uploadedOrders": []})
    client().post(
        "orders/upload", {"orders": [{"externalId": "A", "firstName": "Анна"}], "site": "main"}
    )
    request = responses.calls[0].request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = dict(parse_qsl(request.body))
    assert form["site"] == "main"
    assert json.loads(form["orders"]) == [{"externalId": "A", "firstName": "Анна"}]


def test_bracket_params_skip_none_and_spell_booleans():
    assert bracket_params({"a": None, "b": True, "c": [False]}) == [("b", "1"), ("c[]", "0")]


@pytest.mark.parametrize(
    ("status", "body", "kind", "text"),
    [
        (
            400,
            {
                "success": False,
                "errorMsg": "Errors in the entity format",
                "errors": {"customer": "Set one of the following fields: id, externalId"},
            },
            CrmValidationError,
            "customer: Set one of the following fields",
        ),
        (
            400,
            {
                "success": False,
                "errorMsg": "Validation error",
                "errors": ["items[0].offer.id: Offer with id 123 not found."],
            },
            CrmValidationError,
            "items[0].offer.id: Offer with id 123 not found.",
        ),
        (403, {"success": False, "errorMsg": 'Wrong "apiKey" value.'}, CrmAccessDenied, "apiKey"),
        (404, {"success": False, "errorMsg": "Not found"}, CrmNotFound, "Not found"),
        (
            404,
            {"success": False, "errorMsg": "Account does not exist."},
            CrmAccountMissing,
            "Account does not exist",
        ),
    ],
)
@responses.activate
def test_error_envelopes_become_typed_permanent_errors(status, body, kind, text):
    responses.get(API + "orders/X", json=body, status=status)
    with pytest.raises(kind) as caught:
        client().get("orders/X")
    assert isinstance(caught.value, PermanentError)
    assert text in str(caught.value)
    assert KEY not in str(caught.value)
    assert len(responses.calls) == 1  # a 4xx is never retried


@responses.activate
def test_the_405_html_page_of_a_missing_account_is_recognised():
    responses.post(
        API + "orders/create",
        body="<html><body>405 Not Allowed</body></html>",
        status=405,
        content_type="text/html",
    )
    with pytest.raises(CrmAccountMissing):
        client().post("orders/create", {"order": {}})


@responses.activate
def test_success_false_with_200_is_an_error():
    responses.get(API + "orders", json={"success": False, "errorMsg": "Parameter 'x' is missing"})
    with pytest.raises(CrmValidationError, match="Parameter 'x' is missing"):
        client().get("orders")


@responses.activate
def test_a_460_partial_upload_carries_the_uploaded_and_failed_lists():
    responses.post(
        API + "orders/upload",
        status=460,
        json=partial_upload(
            ["Order with externalId=B already exists."],
            [{"id": 7, "externalId": "A"}],
            ["B"],
        ),
    )
    with pytest.raises(CrmPartialUpload) as caught:
        client().post("orders/upload", {"orders": [{"externalId": "A"}, {"externalId": "B"}]})
    assert caught.value.uploaded == [{"id": 7, "externalId": "A"}]
    assert caught.value.failed == [{"externalId": "B"}]
    assert "already exists" in str(caught.value)


@responses.activate
def test_503_429_5xx_and_connection_errors_are_retried_then_succeed():
    responses.get(API + "orders", status=503, json={"success": False, "errorMsg": "busy"})
    responses.get(API + "orders", status=429, body="slow down", content_type="text/plain")
    responses.get(
        API + "orders", status=502, body="<html>bad gateway</html>", content_type="text/html"
    )
    responses.get(API + "orders", body=requests.ConnectionError("reset"))
    responses.get(API + "orders", json={"success": True, "orders": [{"id": 1}]})
    delays: list[float] = []
    crm = client(sleep=delays.append)
    assert crm.get("orders")["orders"] == [{"id": 1}]
    assert len(responses.calls) == 5 and crm.rate_limited == 2
    assert len(delays) == 4 and delays[3] > delays[0]  # exponential: 1.6 s+ vs 0.4 s at most


@responses.activate
def test_retries_stop_after_the_last_attempt_with_a_transient_error():
    responses.get(API + "orders", status=503, json={"success": False, "errorMsg": "busy"})
    with pytest.raises(CrmRateLimited) as caught:
        client(attempts=3).get("orders")
    assert isinstance(caught.value, TransientError)
    assert len(responses.calls) == 3


@responses.activate
def test_a_non_json_200_reply_is_a_server_error():
    responses.get(API + "orders", body="<html>maintenance</html>", content_type="text/html")
    with pytest.raises(CrmServerError):
        client(attempts=1).get("orders")


@responses.activate
def test_requests_are_counted_by_status_code_without_the_key():
    responses.get(API + "orders", json={"success": True})
    responses.get(API + "orders/1", status=404, json={"success": False, "errorMsg": "Not found"})
    metrics = Metrics()
    crm = client(metrics=metrics)
    crm.get("orders")
    with pytest.raises(CrmNotFound):
        crm.get("orders/1")
    exposition = metrics.registry.get_sample_value
    assert exposition("syncd_http_requests_total", {"system": "crm", "code": "200"}) == 1
    assert exposition("syncd_http_requests_total", {"system": "crm", "code": "404"}) == 1


def test_the_pacer_spaces_requests_of_all_threads_by_the_rate():
    clock = FakeClock()
    lock = threading.Lock()
    handed: list[float] = []
    pacer = Pacer(10, clock=clock, sleep=lambda s: None)

    def take() -> None:
        waited = pacer.wait()
        with lock:
            handed.append(clock.now + waited)

    threads = [threading.Thread(target=take) for _ in range(25)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    slots = sorted(handed)
    gaps = [round(b - a, 9) for a, b in zip(slots, slots[1:], strict=False)]
    assert len(slots) == 25 and all(g == pytest.approx(0.1) for g in gaps)


@responses.activate
def test_each_kind_of_call_waits_as_long_as_its_kind_deserves():
    responses.get(API + "orders", json={"success": True})
    responses.post(API + "orders/A/edit", json={"success": True})
    responses.post(API + "orders/upload", json={"success": True})
    crm = client(timeouts=CrmTimeouts(connect_seconds=2, read_seconds=4, write_seconds=6))
    crm.get("orders")
    crm.post("orders/A/edit", {"order": {}})
    crm.post("orders/upload", {"orders": []})
    waited = [call.request.req_kwargs["timeout"] for call in responses.calls]
    assert waited == [(2, 4), (2, 6), (2, 20)]


@pytest.mark.parametrize(
    "answer",
    [requests.ReadTimeout("read timed out"), requests.ConnectionError("connection reset")],
    ids=["read timeout", "dropped after sending"],
)
@responses.activate
def test_a_write_that_got_no_answer_is_never_sent_again_by_the_transport(answer):
    responses.post(API + "orders/A/edit", body=answer)
    crm = client()
    with pytest.raises(CrmNoAnswer) as caught:
        crm.post("orders/A/edit", {"order": {"status": "assembling"}})
    assert caught.value.maybe_applied and isinstance(caught.value, TransientError)
    assert "it may still be applied" in str(caught.value) and KEY not in str(caught.value)
    assert len(responses.calls) == 1


@responses.activate
def test_a_504_to_a_write_is_no_answer_but_a_read_is_asked_again():
    responses.post(API + "orders/A/edit", status=504, body="<html>504</html>")
    responses.get(API + "orders", status=504, body="<html>504</html>")
    responses.get(API + "orders", json={"success": True, "orders": []})
    crm = client()
    with pytest.raises(CrmNoAnswer):
        crm.post("orders/A/edit", {"order": {}})
    assert crm.get("orders") == {"success": True, "orders": []}
    assert len(responses.calls) == 3


@responses.activate
def test_a_write_that_never_left_is_retried():
    refused = requests.ConnectionError(
        MaxRetryError(None, "/api/v5/orders/A/edit", NewConnectionError(None, "refused"))
    )
    responses.post(API + "orders/A/edit", body=refused)
    responses.post(API + "orders/A/edit", json={"success": True, "id": 1})
    assert client().post("orders/A/edit", {"order": {}})["id"] == 1
    assert len(responses.calls) == 2


@responses.activate
def test_a_transport_bound_to_a_deadline_starts_nothing_past_it():
    responses.get(API + "orders", body=requests.ReadTimeout("read timed out"))
    clock = FakeClock()
    deadline = Deadline(at=5.0, clock=clock)
    bounded = client(sleep=clock.sleep, attempts=6).within(deadline)
    with pytest.raises(requests.ReadTimeout):  # asked again while time is left, not 6 times
        bounded.get("orders")
    assert 1 < len(responses.calls) < 6 and clock.now < deadline.at
    clock.now = deadline.at
    with pytest.raises(DeadlinePassed):
        bounded.post("orders/A/edit", {"order": {}})
    assert not any(c.request.method == "POST" for c in responses.calls)
