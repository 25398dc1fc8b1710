"""Timers in the store, on SQLite and PostgreSQL: kept, fired once, cancelled."""

from __future__ import annotations

import threading

from sqlalchemy import select

from syncd.model import Timer
from syncd.store import timers
from syncd.store.schema import inbox


def timer(n: int, due: float, subject: str = "crm/order/o1") -> Timer:
    return Timer(f"t:{n}", "call_chain", subject, due, {"order": "o1", "miss": n})


def test_a_timer_fires_once_when_due_as_an_inbox_event(store):
    with store.begin() as conn:
        assert timers.schedule(conn, [timer(1, 100.0)], now=1.0) == 1
        assert timers.schedule(conn, [timer(1, 999.0)], now=2.0) == 0  # same key: kept
    with store.begin() as conn:
        assert timers.fire_due(conn, now=99.9) == []
    with store.begin() as conn:
        (fired,) = timers.fire_due(conn, now=5000.0)  # late rather than never
    with store.begin() as conn:
        assert timers.fire_due(conn, now=9000.0) == []
        rows = conn.execute(select(inbox.c.system, inbox.c.entity, inbox.c.external_id)).all()
    assert fired.payload == {
        "kind": "call_chain", "subject": "crm/order/o1", "due_at": 100.0, "order": "o1", "miss": 1
    }  # fmt: skip
    assert [tuple(r) for r in rows] == [("syncd", "timer", "t:1")]
    with store.read() as conn:
        (row,) = timers.listing(conn, ["fired"])
    assert row.ended_at == 5000.0


def test_cancelling_a_subject_stops_its_pending_timers_only(store):
    with store.begin() as conn:
        timers.schedule(conn, [timer(1, 100.0), timer(2, 100.0, "crm/order/o2")])
        assert timers.cancel(conn, "call_chain", "crm/order/o1", "moved on", now=50.0) == 1
        assert timers.cancel(conn, "call_chain", "crm/order/o1", "again", now=60.0) == 0
        assert timers.cancel(conn, "other_kind", "crm/order/o2", "not mine") == 0
    with store.begin() as conn:
        fired = timers.fire_due(conn, now=200.0)
    assert [e.external_id for e in fired] == ["t:2"]
    with store.read() as conn:
        (cancelled,) = timers.listing(conn, ["cancelled"])
    assert cancelled.note == "moved on" and cancelled.ended_at == 50.0


def test_pending_and_overdue_are_counted_per_kind(store):
    with store.begin() as conn:
        timers.schedule(conn, [timer(1, 100.0), timer(2, 1000.0), timer(3, 10_000.0)])
        assert timers.pending_counts(conn, now=1100.0, overdue_after=60.0) == {"call_chain": (3, 2)}
        assert timers.pending_counts(conn, now=1030.0, overdue_after=60.0) == {"call_chain": (3, 1)}
        assert timers.next_due(conn) == 100.0


def test_two_instances_firing_at_once_fire_each_timer_once(store):
    with store.begin() as conn:
        timers.schedule(conn, [timer(n, float(n)) for n in range(300)])
    fired: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def instance() -> None:
        try:
            start.wait()
            while True:
                with store.begin() as conn:
                    batch = timers.fire_due(conn, now=1000.0, limit=7)
                if not batch:
                    with store.read() as conn:
                        if not timers.listing(conn, ["pending"], limit=1):
                            return
                    continue
                fired.extend(e.external_id for e in batch)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=instance) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(fired) == sorted(f"t:{n}" for n in range(300))  # each once
    with store.read() as conn:
        assert conn.execute(select(inbox.c.id)).all().__len__() == 300
