"""The CRM history source: echoes dropped (with or without externalId), full objects re-read."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import responses

from syncd.config import ConfigError
from syncd.engine.contracts import PartContext
from syncd.engine.pipeline import build_pipeline
from syncd.metrics import Metrics
from tests.support.crm import history_source
from tests.support.daemon import parts_of, write_config

URL = "https://shop.retailcrm.test"
API = URL + "/api/v5/"


def source(tmp_path, crm: dict | None = None, **options):
    env = {"SYNCD_CRM_URL": URL, "SYNCD_CRM_API_KEY": "k" * 24, "SYNCD_CRM_SITE": "main"}
    spec = history_source(**{"requests_per_second": 1000, **options})
    extra = {"crm": crm} if crm else None
    return parts_of(tmp_path, sources=[spec], env=env, extra=extra).sources["crm_orders"]


def record(
    rid, order_id, *, own=False, external_id=None, source_="user", created="2026-11-23 12:00:00"
):
    rec = {
        "id": rid,
        "createdAt": created,
        "field": "status",
        "source": "api" if own else source_,
        "order": {"id": order_id, "site": "main", "status": "new"},
        "newValue": {"code": "client-confirmed"},
    }
    if external_id:
        rec["order"]["externalId"] = external_id
    if own or source_ == "api":
        rec["apiKey"] = {"current": own}
    return rec


@responses.activate
def test_own_changes_are_dropped_with_or_without_external_id_and_others_are_reread(tmp_path):
    responses.get(
        API + "orders/history",
        json={
            "success": True,
            "history": [
                record(101, 1, own=True, external_id="ERP-1"),  # our write to an ERP-born order
                record(102, 2, own=True),  # our write to a CRM-born order
                record(103, 3, source_="user"),  # a manager's change
                record(104, 4, source_="api"),  # another integration's key
                record(105, 3, source_="user", created="2026-11-23 12:05:00"),
            ],
            "pagination": {"totalPageCount": 1},
        },
    )
    responses.get(
        API + "orders",
        json={
            "success": True,
            "orders": [{"id": 3, "status": "client-confirmed"}, {"id": 4, "status": "new"}],
        },
    )
    batches = list(source(tmp_path).poll({"since_id": 100}))
    (batch,) = batches
    assert sorted(e.external_id for e in batch.events) == ["3", "4"]
    three = next(e for e in batch.events if e.external_id == "3")
    assert three.version == "105" and three.payload["status"] == "client-confirmed"
    assert batch.cursor == {"since_id": 105, "start_date": None}
    reread = parse_qs(urlsplit(responses.calls[1].request.url).query)
    assert reread["filter[ids][]"] == ["3", "4"]


@responses.activate
def test_a_page_of_only_own_changes_moves_the_cursor_without_rereading(tmp_path):
    responses.get(
        API + "orders/history",
        json={
            "success": True,
            "history": [record(7, 1, own=True), record(8, 2, own=True)],
            "pagination": {"totalPageCount": 1},
        },
    )
    (batch,) = list(source(tmp_path).poll({"since_id": 6}))
    assert batch.events == [] and batch.cursor["since_id"] == 8
    assert len(responses.calls) == 1


@responses.activate
def test_first_read_starts_now_and_keeps_the_date_until_something_happens(tmp_path):
    responses.get(API + "orders/history", json={"success": True, "history": []})
    (batch,) = list(source(tmp_path).poll(None))
    asked = parse_qs(urlsplit(responses.calls[0].request.url).query)
    assert "filter[startDate]" in asked and "filter[sinceId]" not in asked
    assert batch.cursor["since_id"] == 0
    assert batch.cursor["start_date"] == asked["filter[startDate]"][0]


@responses.activate
def test_pages_per_poll_caps_one_run(tmp_path):
    for n in range(5):
        responses.get(
            API + "orders/history",
            json={
                "success": True,
                "history": [record(10 + n, 1, own=True)],
                "pagination": {"totalPageCount": 5 - n},
            },
        )
    batches = list(source(tmp_path, pages_per_poll=2).poll({"since_id": 9}))
    assert [b.cursor["since_id"] for b in batches] == [10, 11]


def test_missing_crm_credentials_are_a_config_error_at_the_option(tmp_path):
    from syncd.config import load_settings

    config = write_config(
        tmp_path,
        f"sqlite:///{tmp_path}/s.db",
        sources=[history_source()],
    )
    settings = load_settings(config, {})
    with pytest.raises(ConfigError, match="needs crm.url and crm.api_key"):
        build_pipeline(settings, PartContext(settings, Metrics()))


def test_a_bad_start_or_time_zone_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Base'"):
        source(tmp_path, account_timezone="Mars/Base")
    with pytest.raises(ConfigError, match="expected 'now' or YYYY-MM-DD HH:MM:SS"):
        source(tmp_path, start="yesterday")


def one_change_at(created: str) -> None:
    responses.get(
        API + "orders/history",
        json={
            "success": True,
            "history": [record(5, 3, created=created)],
            "pagination": {"totalPageCount": 1},
        },
    )
    responses.get(API + "orders", json={"success": True, "orders": [{"id": 3}]})


@responses.activate
def test_history_times_are_read_in_the_accounts_zone_crm_timezone(tmp_path):
    one_change_at("2026-11-23 12:00:00")
    crm = {"timezone": "Asia/Vladivostok"}
    (batch,) = list(source(tmp_path, crm=crm).poll({"since_id": 4}))
    (event,) = batch.events
    assert event.changed_at == datetime(2026, 11, 23, 2, 0, tzinfo=UTC).timestamp()  # UTC+10


@responses.activate
def test_the_deprecated_account_timezone_still_wins_for_its_stream_with_a_warning(tmp_path, caplog):
    one_change_at("2026-11-23 12:00:00")
    with caplog.at_level(logging.WARNING, logger="syncd.config"):
        part = source(tmp_path, account_timezone="Asia/Yekaterinburg")
    (batch,) = list(part.poll({"since_id": 4}))
    assert batch.events[0].changed_at == datetime(2026, 11, 23, 7, 0, tzinfo=UTC).timestamp()
    (warning,) = [r.getMessage() for r in caplog.records if "deprecated" in r.getMessage()]
    assert "source crm_orders: options.account_timezone is deprecated: set crm.timezone" in warning
    assert "crm.timezone is Europe/Moscow: this part alone reads times in Asia/Yekaterinburg" in (
        warning
    )


@responses.activate
def test_a_configured_start_is_the_first_read_s_date_and_a_cursor_past_it_asks_by_id(tmp_path):
    responses.get(API + "orders/history", json={"success": True, "history": []})
    part = source(tmp_path, start="2026-11-01 00:00:00")
    (first,) = list(part.poll(None))
    asked = parse_qs(urlsplit(responses.calls[0].request.url).query)
    assert asked["filter[startDate]"] == ["2026-11-01 00:00:00"]
    assert (
        first.cursor == {"since_id": 0, "start_date": "2026-11-01 00:00:00"} and first.events == []
    )
    list(part.poll({"since_id": 0, "start_date": "2026-11-02 00:00:00"}))  # the date kept
    again = parse_qs(urlsplit(responses.calls[1].request.url).query)
    assert again["filter[startDate]"] == ["2026-11-02 00:00:00"]
    list(part.poll({"since_id": 40, "start_date": "2026-11-02 00:00:00"}))
    by_id = parse_qs(urlsplit(responses.calls[2].request.url).query)
    assert by_id["filter[sinceId]"] == ["40"] and "filter[startDate]" not in by_id


@responses.activate
def test_now_is_the_account_s_wall_clock(tmp_path):
    responses.get(API + "orders/history", json={"success": True, "history": []})
    before = datetime.now(ZoneInfo("Asia/Vladivostok")).replace(microsecond=0, tzinfo=None)
    list(source(tmp_path, crm={"timezone": "Asia/Vladivostok"}).poll(None))
    asked = parse_qs(urlsplit(responses.calls[0].request.url).query)["filter[startDate]"][0]
    started = datetime.strptime(asked, "%Y-%m-%d %H:%M:%S")
    assert timedelta(0) <= started - before <= timedelta(minutes=5)


@responses.activate
def test_events_are_named_by_the_stream_system_and_entity(tmp_path):
    one_change_at("2026-11-23 12:00:00")
    (batch,) = list(source(tmp_path).poll({"since_id": 4}))
    (event,) = batch.events
    assert (event.system, event.entity, event.external_id) == ("crm", "order", "3")
    assert (event.stream, event.version) == ("crm_orders", "5")


@responses.activate
def test_customers_history_rereads_the_customers_a_hundred_at_a_time(tmp_path):
    responses.get(
        API + "customers/history",
        json={"success": True, "history": [{"id": 9, "createdAt": "2026-11-23 12:00:00",
              "field": "first_name", "source": "user", "customer": {"id": 21}}],
              "pagination": {"totalPageCount": 1}},
    )  # fmt: skip
    responses.get(API + "customers", json={"success": True, "customers": [{"id": 21}]})
    (batch,) = list(source(tmp_path, entity="customer").poll({"since_id": 8}))
    (event,) = batch.events
    assert (event.entity, event.external_id, event.version) == ("customer", "21", "9")
    asked = parse_qs(urlsplit(responses.calls[0].request.url).query)
    assert asked["filter[sinceId]"] == ["8"]
    reread = parse_qs(urlsplit(responses.calls[1].request.url).query)
    assert reread["filter[ids][]"] == ["21"] and reread["limit"] == ["100"]


@responses.activate
def test_a_history_time_from_the_future_is_warned_about_once(tmp_path, caplog):
    ahead = (datetime.now(ZoneInfo("Europe/Moscow")) + timedelta(hours=3)).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    close = (datetime.now(ZoneInfo("Europe/Moscow")) + timedelta(minutes=5)).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    part = source(tmp_path)
    with caplog.at_level(logging.WARNING, logger="syncd.connectors.retailcrm.history_source"):
        one_change_at(close)
        list(part.poll({"since_id": 4}))
        assert not caplog.records  # within the clock skew allowed
        one_change_at(ahead)
        list(part.poll({"since_id": 4}))
        one_change_at(ahead)
        list(part.poll({"since_id": 4}))
    (warning,) = [r.getMessage() for r in caplog.records]
    assert warning.startswith(f"stream crm_orders: RetailCRM history time {ahead} is 3.0 h ahead")
    assert "read in crm.timezone Europe/Moscow; set crm.timezone to the account's zone" in warning
