"""Retention and the order flow, on SQLite and PostgreSQL: once old events are pruned, a
repeat of an order's newest change is still dropped by the inbox, and a repeat of an
older change (its row deleted, so stored again and planned) plans nothing: the flow's
facts hold a later 1C ``DataVersion`` and CRM history id."""

from __future__ import annotations

import base64
import time

from sqlalchemy import select

from syncd.engine.planning import plan_pending
from syncd.model import Event
from syncd.store import inbox, leases, retention
from syncd.store.schema import inbox as inbox_table
from syncd.store.schema import inbox_seen
from syncd.store.schema import outbox as outbox_table
from tests.support.daemon import ROOT, parts_of

ORDERS = "Document_ЗаказКлиента"
STATES = "InformationRegister_СостоянияЗаказовКлиентов"
REF = "5f0c6c2e-0000-0000-0000-000000000001"
STATE_KEY = f"Заказ={REF};Заказ_Type=StandardODATA.{ORDERS}"
EMPTY = "00000000-0000-0000-0000-000000000000"


def order_pipeline(tmp_path):
    both = {"crm_sink": "crm", "erp_sink": "erp"}
    flows = [
        {
            "name": "orders_from_erp",
            "kind": "order_sync",
            "source_system": "erp",
            "entities": ["order", "order_state"],
            "target": "crm",
            "options": both,
        },
        {
            "name": "orders_from_crm",
            "kind": "order_sync",
            "source_system": "crm",
            "entities": ["order"],
            "target": "erp",
            "options": both,
        },
    ]
    sinks = {
        name: {"kind": "directory", "system": name, "options": {"path": str(tmp_path / name)}}
        for name in ("crm", "erp")
    }
    extra = {"mappings_dir": str(ROOT / "mappings"), "flows": flows, "sinks": sinks}
    return parts_of(tmp_path, extra=extra)


def erp_order(version: int, comment: str = "", status: str = "НеСогласован") -> Event:
    data_version = base64.b64encode(version.to_bytes(8, "big")).decode()  # УТ 11's counter
    data = {
        "Ref_Key": REF,
        "DataVersion": data_version,
        "Number": "0000-000001",
        "Date": "2026-11-20T10:00:00",
        "Статус": status,
        "Posted": True,
        "Согласован": status != "НеСогласован",
        "Комментарий": comment,
        "Партнер_Key": EMPTY,
        "СуммаДокумента": 1500.0,
        "Товары": [],
    }
    return Event("erp", "order", REF, data_version, {"set": ORDERS, "data": data})


def erp_state(version: str, state: str) -> Event:
    payload = {"set": STATES, "key": {"Заказ": REF}, "data": {"Состояние": state}}
    return Event("erp", "order_state", STATE_KEY, version, payload)


def crm_order(history_id: int, status: str, comment: str = "") -> Event:
    order = {"id": 77, "externalId": REF, "status": status, "managerComment": comment}
    return Event("crm", "order", "77", str(history_id), order)


def plan_everything(store, pipeline) -> int:
    """Plan what waits, as the daemon's planner does; returns the commands queued."""
    with store.begin() as conn:
        lease = leases.acquire(conn, "inbox", "test", 60)
    queued = 0
    while True:
        planned = plan_pending(store, pipeline, lease, 100)
        queued += planned.commands
        if planned.events == 0:
            return queued


def arrive(store, *events: Event) -> int:
    with store.begin() as conn:
        return inbox.add(conn, list(events), "test")


def prune_everything_processed(store) -> None:
    """Retention with every processed event old enough (a cutoff just ahead of now)."""
    cutoff = time.time() + 10
    position = retention.START
    while True:
        with store.begin() as conn:
            batch = retention.prune_events(conn, cutoff, 500, position)
        position = batch.position
        if batch.finished:
            break
    with store.begin() as conn:
        while retention.prune_commands(conn, cutoff, 500):
            pass


def test_repeats_after_a_prune_plan_nothing_new(tmp_path, store):
    pipeline = order_pipeline(tmp_path)
    history = [
        [erp_order(1), erp_state("s1", "ОжидаетсяСогласование")],
        [crm_order(100, "new")],
        [erp_order(2, comment="позвонить после 18")],
        [crm_order(101, "client-confirmed", comment="позвонить после 18")],
        [erp_order(3, comment="позвонить после 18", status="КОбеспечению")],
        [erp_state("s2", "ГотовКОтгрузке")],
    ]
    for events in history:
        arrive(store, *events)
        plan_everything(store, pipeline)
    with store.read() as conn:
        states = conn.execute(select(inbox_table.c.state)).scalars().all()
        commands = conn.execute(select(outbox_table.c.target)).scalars().all()
    assert set(states) == {"done"} and set(commands) == {"crm", "erp"}  # both ways

    prune_everything_processed(store)
    with store.read() as conn:
        left = conn.execute(select(inbox_table.c.external_id, inbox_table.c.version)).all()
        kept = conn.execute(select(inbox_seen.c.version)).scalars().all()
        found = inbox.kept_versions(conn, [("erp", "order", REF), ("crm", "order", "77")])
    # the inbox's newest row stays; of each other object the newest version is kept
    assert left == [(STATE_KEY, "s2")]
    assert found == {("erp", "order", REF): history[4][0].version, ("crm", "order", "77"): "101"}
    assert len(kept) == 2

    # the newest changes come again: the kept versions (and the row left) drop them
    assert arrive(store, erp_order(3, "позвонить после 18", "КОбеспечению")) == 0
    assert arrive(store, crm_order(101, "client-confirmed", comment="позвонить после 18")) == 0
    assert arrive(store, erp_state("s2", "ГотовКОтгрузке")) == 0
    # older changes come again: stored, planned, and the flow's facts find them old
    assert arrive(store, erp_order(2, comment="позвонить после 18")) == 1
    assert arrive(store, crm_order(100, "new")) == 1
    # an older 1C state of the order comes again: the flow knows state events only by their
    # inbox id, so it takes it into its facts, but stages never move back: nothing is written
    assert arrive(store, erp_state("s1", "ОжидаетсяСогласование")) == 1
    assert plan_everything(store, pipeline) == 0
    with store.read() as conn:
        outcomes = conn.execute(
            select(inbox_table.c.outcome).where(
                inbox_table.c.state == "done", inbox_table.c.version != "s2"
            )  # the repeats, not the row retention left
        ).scalars()
        assert set(outcomes) == {"unchanged"}
