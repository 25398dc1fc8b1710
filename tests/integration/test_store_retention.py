"""Retention on SQLite and PostgreSQL: what goes once it is old, what stays and why."""

from __future__ import annotations

import itertools
import json

from sqlalchemy import func, select, update

from syncd.model import Conflict, Event
from syncd.store import conflicts, dead_letters, inbox, outbox, retention
from syncd.store.schema import conflicts as conflicts_table
from syncd.store.schema import dead_letters as dead_letters_table
from syncd.store.schema import inbox as inbox_table
from syncd.store.schema import inbox_seen
from syncd.store.schema import outbox as outbox_table
from tests.integration.test_store_inbox_outbox import cmd

OLD, CUTOFF, RECENT = 1000.0, 2000.0, 3000.0
LIVE, LIVE_VERSIONS = "LIVE", itertools.count(1)


def ev(key: str, version: str, system: str = "erp", entity: str = "order") -> Event:
    return Event(system, entity, key, version, {"key": key, "v": version}, changed_at=1.0)


def store_events(store, *events: Event) -> dict[str, int]:
    """Store events; returns their inbox ids by ``key@version``."""
    with store.begin() as conn:
        inbox.add(conn, list(events), "s")
        rows = conn.execute(
            select(inbox_table.c.id, inbox_table.c.external_id, inbox_table.c.version)
        )
        return {f"{key}@{version}": event_id for event_id, key, version in rows}


def process(store, ids: list[int], at: float, state: str = "done") -> None:
    with store.begin() as conn:
        inbox.mark(conn, {i: (state, "updated") for i in ids}, now=at)


def prune_inbox(
    store, cutoff: float = CUTOFF, limit: int = 500, *, newer: bool = True
) -> tuple[int, int]:
    """Prune the inbox to the end, batch by batch; returns (deleted, versions kept).

    ``newer``: as in a running system, a newer event (``LIVE``, pending) has come in
    first, so that the inbox's newest row (which always stays) is none of the test's."""
    if newer:
        store_events(store, ev(LIVE, str(next(LIVE_VERSIONS))))
    deleted = kept = 0
    position = retention.START
    while True:
        with store.begin() as conn:
            batch = retention.prune_events(conn, cutoff, limit, position)
        deleted, kept = deleted + batch.deleted, kept + batch.versions_kept
        position = batch.position
        if batch.finished:
            return deleted, kept


def pending(conn) -> list[Event]:
    return [e for e in inbox.pending(conn, 100) if e.external_id != LIVE]


KEYS = [*"ABCDRSX", *(f"P{i}" for i in range(10))]  # every order key these tests use


def seen(store) -> dict[str, str]:
    """``key`` -> the version inbox_seen keeps of it (and it keeps nothing else)."""
    with store.read() as conn:
        found = inbox.kept_versions(conn, [("erp", "order", k) for k in KEYS])
        rows = conn.execute(select(func.count()).select_from(inbox_seen)).scalar_one()
    assert rows == len(found)
    return {ref[2]: version for ref, version in found.items()}


def rows(store) -> dict[str, tuple[str, str]]:
    """``key@version`` -> (state, payload) of every inbox row."""
    with store.read() as conn:
        found = conn.execute(
            select(
                inbox_table.c.external_id,
                inbox_table.c.version,
                inbox_table.c.state,
                inbox_table.c.payload,
            )
        )
        return {f"{k}@{v}": (state, payload) for k, v, state, payload in found if k != LIVE}


def test_old_processed_events_go_and_of_each_objects_newest_the_version_is_kept(store):
    ids = store_events(store, ev("A", "1"), ev("A", "2"), ev("B", "1"), ev("C", "1"), ev("D", "1"))
    process(store, [ids["A@1"], ids["A@2"], ids["B@1"]], OLD)
    process(store, [ids["D@1"]], RECENT)
    # C@1 waits to be planned; A@3 arrived and waits too
    ids |= store_events(store, ev("A", "3"))

    # A@1 and A@2 are deleted (A@3, newer, holds A's state); B@1 too, its version kept
    assert prune_inbox(store) == (3, 1)

    left = rows(store)
    assert "A@1" not in left and "A@2" not in left and "B@1" not in left
    assert seen(store) == {"B": "1"}
    assert left["C@1"][0] == left["A@3"][0] == "pending"
    assert left["D@1"][0] == "done" and json.loads(left["D@1"][1])["v"] == "1"


def test_the_newest_row_of_the_inbox_stays_so_that_event_ids_never_come_back(store):
    ids = store_events(store, ev("A", "1"), ev("B", "1"))
    process(store, list(ids.values()), OLD)
    assert prune_inbox(store, newer=False) == (1, 1)  # A@1 goes; B@1, the newest, stays
    assert set(rows(store)) == {"B@1"}
    ids |= store_events(store, ev("C", "1"))
    assert ids["C@1"] > ids["B@1"]  # SQLite numbers past the highest row left
    process(store, [ids["B@1"], ids["C@1"]], OLD)
    assert prune_inbox(store, newer=False) == (1, 1) and set(rows(store)) == {"C@1"}


def test_failed_events_are_pruned_like_done_ones(store):
    ids = store_events(store, ev("A", "1"), ev("A", "2"))
    process(store, [ids["A@1"], ids["A@2"]], OLD, state="failed")
    assert prune_inbox(store) == (2, 1)
    assert rows(store) == {} and seen(store) == {"A": "2"}


def test_a_repeat_of_a_kept_version_is_dropped_and_an_older_one_is_stored(store):
    ids = store_events(store, ev("A", "1"), ev("A", "2"))
    process(store, list(ids.values()), OLD)
    prune_inbox(store)
    with store.begin() as conn:
        assert inbox.add(conn, [ev("A", "2")], "s") == 0  # inbox_seen keeps that version
        assert inbox.add(conn, [ev("A", "2", entity="customer")], "s") == 1  # another object
        assert inbox.add(conn, [ev("A", "1")], "s") == 1  # not the kept one: stored again
        again = inbox.pending(conn, 10)[-1]
    assert again.key == "erp/order/A@1"
    # it is the object's newest row now, so it is planned: the flows' own guards must find
    # it older than what they hold (tests/integration/test_retention_orders.py)
    with store.read() as conn:
        assert inbox.newest_ids(conn, [again])[("erp", "order", "A")] == again.id > ids["A@2"]


def test_the_kept_version_moves_on_once_a_newer_event_of_its_object_is_pruned(store):
    ids = store_events(store, ev("A", "1"))
    process(store, [ids["A@1"]], OLD)
    prune_inbox(store)
    ids |= store_events(store, ev("A", "2"))
    process(store, [ids["A@2"]], CUTOFF + 10)
    assert prune_inbox(store, cutoff=CUTOFF) == (0, 0)  # A@2 is recent: A@1's kept
    assert seen(store) == {"A": "1"}
    assert prune_inbox(store, cutoff=RECENT) == (1, 1)
    assert rows(store) == {} and seen(store) == {"A": "2"}


def test_an_open_conflict_keeps_the_payload_of_its_objects_newest_event(store):
    ids = store_events(store, ev("R", "1"), ev("R", "2"), ev("S", "1"))
    process(store, list(ids.values()), OLD)
    details = {"erp": {}, "crm": {}, "facts_ref": ["erp", "order", "R"]}
    with store.begin() as conn:
        conflict_id = conflicts.add(conn, Conflict("orders", "order", "R", "both moved", details))

    assert prune_inbox(store) == (2, 1)  # R@1 deleted, S@1 too (version kept), R@2 whole
    assert rows(store)["R@2"][0] == "done"
    with store.begin() as conn:  # resolving plans it again: it has its payload
        assert inbox.requeue_newest(conn, "erp", "order", "R")
        inbox.mark(conn, {ids["R@2"]: ("done", "updated")}, now=OLD)
        conflicts.resolve(conn, conflict_id, "take:erp")

    assert prune_inbox(store) == (1, 1)
    assert rows(store) == {} and seen(store) == {"R": "2", "S": "1"}


def test_an_open_event_dead_letter_keeps_its_event_and_its_objects_newest_whole(store):
    ids = store_events(store, ev("X", "1"), ev("X", "2"), ev("X", "3"))
    process(store, [ids["X@1"]], OLD, state="failed")
    process(store, [ids["X@2"], ids["X@3"]], OLD)
    with store.begin() as conn:
        letter = dead_letters.add(
            conn, kind="event", origin="s", subject="erp/order/X@1", error="boom", ref_id=ids["X@1"]
        )

    assert prune_inbox(store) == (1, 0)  # only X@2 goes
    assert set(rows(store)) == {"X@1", "X@3"}
    assert rows(store)["X@3"][0] == "done"
    with store.begin() as conn:
        dead_letters.discard(conn, letter)

    assert prune_inbox(store) == (2, 1)
    assert rows(store) == {} and seen(store) == {"X": "3"}


def test_a_retried_dead_letter_still_finds_its_event_after_a_prune(store):
    ids = store_events(store, ev("X", "1"))
    process(store, [ids["X@1"]], OLD, state="failed")
    with store.begin() as conn:
        letter = dead_letters.add(
            conn, kind="event", origin="s", subject="erp/order/X@1", error="boom", ref_id=ids["X@1"]
        )
    prune_inbox(store)
    with store.begin() as conn:
        assert "planned again" in dead_letters.retry(conn, letter)
        (event,) = pending(conn)
    assert event.payload == {"key": "X", "v": "1"}


def test_batches_go_on_from_where_the_last_one_stopped_past_rows_kept_for_operators(store):
    events = [ev(f"K{i}", "1") for i in range(7)] + [ev(f"P{i}", v) for i in range(5) for v in "12"]
    ids = store_events(store, *events)
    process(store, list(ids.values()), OLD)
    with store.begin() as conn:  # the first objects met are all held by open conflicts
        for i in range(7):
            conflicts.add(conn, Conflict("orders", "order", f"K{i}", "both moved", {}))

    assert prune_inbox(store, limit=2) == (10, 5)
    left = rows(store)
    assert all(left[f"K{i}@1"][0] == "done" for i in range(7)) and len(left) == 7
    assert seen(store) == {f"P{i}": "2" for i in range(5)}


def test_pruned_events_are_never_planned_again(store):
    ids = store_events(store, ev("A", "1"), ev("A", "2"), ev("B", "1"))
    process(store, [ids["A@1"], ids["A@2"]], OLD)
    process(store, [ids["B@1"]], RECENT)
    prune_inbox(store)
    with store.begin() as conn:
        assert inbox.replay(conn) == 1  # B@1, still whole; A@2 is gone
        assert [e.key for e in pending(conn)] == ["erp/order/B@1"]
        assert not inbox.requeue(conn, ids["A@2"])
        assert not inbox.requeue_newest(conn, "erp", "order", "A")
        assert inbox.get(conn, ids["A@2"]) is None
        recent = inbox.recent_payloads(conn, ["erp"], 10)
        assert [p for p in recent if p["key"] != LIVE] == [{"key": "B", "v": "1"}]
    assert set(rows(store)) == {"B@1"} and seen(store) == {"A": "2"}


def test_finished_commands_go_after_their_period_and_unfinished_ones_never(store):
    states = {
        "done-old": ("done", OLD),
        "discarded-old": ("discarded", OLD),
        "superseded-old": ("superseded", OLD),
        "done-recent": ("done", RECENT),
        "pending": ("pending", None),
        "running": ("running", None),
        "dead": ("dead", None),
    }
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd(name, 1) for name in states], now=OLD - 100)
        for name, (state, done_at) in states.items():
            conn.execute(
                update(outbox_table)
                .where(outbox_table.c.object_id == name)
                .values(state=state, done_at=done_at)
            )
    with store.begin() as conn:
        assert retention.prune_commands(conn, CUTOFF, limit=2) == 2
        assert retention.prune_commands(conn, CUTOFF, limit=2) == 1
        assert retention.prune_commands(conn, CUTOFF, limit=2) == 0
        left = set(conn.execute(select(outbox_table.c.object_id)).scalars())
    assert left == {"done-recent", "pending", "running", "dead"}


def test_resolved_dead_letters_and_conflicts_go_after_their_period_and_open_ones_never(store):
    with store.begin() as conn:
        for name in ("resolved-old", "resolved-recent", "open"):
            dead_letters.add(conn, kind="record", origin="s", subject=name, error="bad")
            conflicts.add(conn, Conflict("orders", "order", name, "both moved", {}))
        for table, subject in ((dead_letters_table, "subject"), (conflicts_table, "object_key")):
            for name, resolved_at in (("resolved-old", OLD), ("resolved-recent", RECENT)):
                conn.execute(
                    update(table)
                    .where(table.c[subject] == name)
                    .values(state="discarded", resolved_at=resolved_at)
                )
            conn.execute(  # open since long ago
                update(table).where(table.c[subject] == "open").values(created_at=1.0)
            )
    with store.begin() as conn:
        assert retention.prune_dead_letters(conn, CUTOFF, 500) == 1
        assert retention.prune_conflicts(conn, CUTOFF, 500) == 1
        letters = set(conn.execute(select(dead_letters_table.c.subject)).scalars())
        left = set(conn.execute(select(conflicts_table.c.object_key)).scalars())
    assert letters == left == {"resolved-recent", "open"}


def test_the_store_knows_its_size(store):
    assert retention.size_bytes(store) > 0
