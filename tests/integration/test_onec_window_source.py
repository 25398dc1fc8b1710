"""Polling by a date window: overlap for late rows, content hash against re-writes."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.support.erp import ORDERS, erp_parts, erp_sandbox, window_source

ZONE = ZoneInfo("Europe/Moscow")
T0 = datetime(2026, 11, 23, 12, 0, 0)


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def erp(self) -> datetime:
        return self.at.replace(tzinfo=ZONE)

    def naive(self) -> datetime:
        return self.at


def setup(tmp_path, app, url, **options):
    clock = Clock()
    app.state.now = clock.erp
    source = erp_parts(tmp_path, url, sources=[window_source(**options)]).sources["erp_orders"]
    source.now = clock.naive
    return source, clock


def poll(source, cursor):
    events, last = [], cursor
    for batch in source.poll(cursor):
        events += batch.events
        last = batch.cursor
    return events, last


def new_order(app, at: datetime) -> dict:
    partner = app.state.rows("Catalog_Партнеры")[0]["Ref_Key"]
    item = app.state.rows("Catalog_Номенклатура")[0]["Ref_Key"]
    saved = app.state.now
    app.state.now = lambda: at.replace(tzinfo=ZONE)
    try:
        return app.trade.new_site_order(partner, [(item, 1, 100.0)])
    finally:
        app.state.now = saved


def test_the_first_poll_reads_the_lookback_and_an_unchanged_window_gives_nothing(tmp_path):
    with erp_sandbox(seed=False) as (app, url):
        app.trade.seed(customers=3, items=3, orders=0)
        source, clock = setup(tmp_path, app, url, first_lookback_seconds=3600)
        old = new_order(app, T0 - timedelta(hours=3))
        recent = new_order(app, T0 - timedelta(minutes=30))
        events, cursor = poll(source, None)
        assert [e.external_id for e in events] == [recent["Ref_Key"]]
        assert cursor["high"] == recent["Date"] and old["Ref_Key"] not in cursor["seen"]
        clock.at += timedelta(minutes=1)
        again, cursor2 = poll(source, cursor)
    assert again == [] and cursor2["high"] == cursor["high"]


def test_a_rewrite_that_only_bumps_dataversion_is_not_an_event_but_an_edit_is(tmp_path):
    with erp_sandbox(seed=False) as (app, url):
        app.trade.seed(customers=3, items=3, orders=0)
        source, _ = setup(tmp_path, app, url)
        order = new_order(app, T0 - timedelta(minutes=5))
        _, cursor = poll(source, None)
        app.trade.write(ORDERS, (order["Ref_Key"],), {"Комментарий": ""}, data_load=False)
        assert app.state.get(ORDERS, (order["Ref_Key"],))["DataVersion"] != order["DataVersion"]
        rewrite, cursor = poll(source, cursor)
        app.trade.manager_edit(order["Ref_Key"], {"Комментарий": "доставка после 18:00"})
        edit, _ = poll(source, cursor)
    assert rewrite == []
    assert [e.payload["data"]["Комментарий"] for e in edit] == ["доставка после 18:00"]


def test_a_row_written_late_inside_the_overlap_is_not_skipped(tmp_path):
    with erp_sandbox(seed=False) as (app, url):
        app.trade.seed(customers=3, items=3, orders=0)
        source, clock = setup(tmp_path, app, url, overlap_seconds=600)
        new_order(app, T0 - timedelta(minutes=1))
        _, cursor = poll(source, None)
        clock.at += timedelta(minutes=2)
        # committed now, but dated 8 minutes before the newest date syncd has seen
        late = new_order(app, T0 - timedelta(minutes=9))
        events, _ = poll(source, cursor)
    assert [e.external_id for e in events] == [late["Ref_Key"]]


def test_revisit_widens_the_window_to_catch_edits_of_older_documents(tmp_path):
    with erp_sandbox(seed=False) as (app, url):
        app.trade.seed(customers=3, items=3, orders=0)
        source, clock = setup(tmp_path, app, url, overlap_seconds=60, revisit_seconds=86400)
        older = new_order(app, T0 - timedelta(hours=5))
        new_order(app, T0 - timedelta(minutes=1))
        _, cursor = poll(source, None)
        app.trade.manager_edit(older["Ref_Key"], {"Комментарий": "перезвонить"})
        clock.at += timedelta(minutes=5)
        events, _ = poll(source, cursor)
    assert [e.external_id for e in events] == [older["Ref_Key"]]


def test_an_entry_that_does_not_type_is_rejected_once_and_the_rest_arrive(tmp_path):
    with erp_sandbox(seed=False) as (app, url):
        app.trade.seed(customers=2, items=2, orders=0)
        source, clock = setup(tmp_path, app, url, first_lookback_seconds=3600)
        good = new_order(app, T0 - timedelta(minutes=5))
        bad = new_order(app, T0 - timedelta(minutes=4))
        bad["Товары"][0]["Отменено"] = "да"  # what no 1C sends for an Edm.Boolean
        rejected, cursor = [], None
        for _ in range(3):  # the window reads the broken entry again each time
            for batch in source.poll(cursor):
                rejected += batch.rejected
                cursor = batch.cursor
            clock.at += timedelta(seconds=30)
        events, _ = poll(source, None)
    assert [e.external_id for e in events] == [good["Ref_Key"]]
    (reject,) = rejected
    assert bad["Ref_Key"] in reject.subject and reject.subject.startswith(f"{ORDERS} window from")
    assert reject.error == "unreadable: field Товары[1].Отменено: expected Edm.Boolean, got 'да'"
