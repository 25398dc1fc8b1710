"""Bindings are not rewritten when nothing in them changes (each update is a dead row on
PostgreSQL), on SQLite and PostgreSQL."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select

from syncd.store import bindings, facts_codec
from syncd.store.schema import bindings as bindings_table

ORDER = ("erp", "order", "R1")
CRM_ORDER = ("crm", "order", "R1")


@contextmanager
def updates_of_bindings(store):
    """Collects the UPDATE statements sent for the bindings table."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_):  # noqa: ANN001
        if statement.lstrip().upper().startswith("UPDATE BINDINGS"):
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", note)


def row_of(store, ref):
    with store.read() as conn:
        return conn.execute(
            select(bindings_table).where(
                bindings_table.c.system == ref[0],
                bindings_table.c.entity == ref[1],
                bindings_table.c.external_id == ref[2],
            )
        ).one()


def test_remembering_the_same_facts_again_updates_nothing(store):
    facts = {"erp": {"version": "AAA", "stage": "new"}, "created": True, "n": 1.5}
    with store.begin() as conn:
        bindings.remember(conn, {ORDER: facts}, now=1000.0)
    with updates_of_bindings(store) as updates, store.begin() as conn:
        # the same facts, built in another key order: still the same
        again = {"n": 1.5, "created": True, "erp": {"stage": "new", "version": "AAA"}}
        bindings.remember(conn, {ORDER: again}, now=2000.0)
    assert updates == []
    row = row_of(store, ORDER)
    assert row.updated_at == 1000.0
    assert bindings.facts_text(facts) == facts_codec.unpack(row.facts)


def test_changed_facts_are_written_and_only_theirs(store):
    other = ("erp", "order", "R2")
    with store.begin() as conn:
        bindings.remember(conn, {ORDER: {"stage": "new"}, other: {"stage": "new"}}, now=1000.0)
    with updates_of_bindings(store) as updates, store.begin() as conn:
        bindings.remember(conn, {ORDER: {"stage": "agreed"}, other: {"stage": "new"}}, now=2000.0)
    assert len(updates) == 1
    assert row_of(store, ORDER).updated_at == 2000.0
    assert row_of(store, other).updated_at == 1000.0
    with store.read() as conn:
        assert bindings.get(conn, *ORDER).facts == {"stage": "agreed"}
        assert bindings.get(conn, *other).facts == {"stage": "new"}


def test_facts_of_a_new_object_are_stored_with_its_row(store):
    with updates_of_bindings(store) as updates, store.begin() as conn:
        bindings.remember(conn, {ORDER: {"stage": "new"}}, now=1000.0)
    assert updates == []
    with store.read() as conn:
        found = bindings.get(conn, *ORDER)
    assert found.facts == {"stage": "new"} and found.link


def test_a_write_that_changes_nothing_in_the_binding_updates_nothing(store):
    write = bindings.Write(CRM_ORDER, "fp1", origin=ORDER, remote_id="77", version="v1")
    with store.begin() as conn:
        links = bindings.record_writes(conn, [write], now=1000.0)
    with updates_of_bindings(store) as updates, store.begin() as conn:
        # the same data written again (the CRM gave the same id, no new version)
        again = bindings.record_writes(
            conn, [bindings.Write(CRM_ORDER, "fp1", origin=ORDER, remote_id="77")], now=2000.0
        )
    assert updates == [] and again == links
    row = row_of(store, CRM_ORDER)
    assert (row.fingerprint, row.remote_id, row.version_seen) == ("fp1", "77", "v1")
    assert row.written_at == row.updated_at == 1000.0


def test_a_write_with_a_new_version_or_fingerprint_is_recorded(store):
    with store.begin() as conn:
        bindings.record_writes(conn, [bindings.Write(ORDER, "fp1", version="v1")], now=1000.0)
    with updates_of_bindings(store) as updates, store.begin() as conn:
        bindings.record_writes(conn, [bindings.Write(ORDER, "fp1", version="v2")], now=2000.0)
        bindings.record_writes(conn, [bindings.Write(ORDER, "fp2")], now=3000.0)
    assert len(updates) == 2
    row = row_of(store, ORDER)
    assert (row.fingerprint, row.version_seen, row.written_at) == ("fp2", "v2", 3000.0)


def test_the_last_of_several_writes_to_one_object_in_a_batch_wins(store):
    with store.begin() as conn:
        bindings.record_writes(conn, [bindings.Write(ORDER, "fp1", remote_id="9")], now=1000.0)
        bindings.record_writes(
            conn,
            [bindings.Write(ORDER, "fp2", version="v2"), bindings.Write(ORDER, "fp3")],
            now=2000.0,
        )
    row = row_of(store, ORDER)
    assert (row.fingerprint, row.version_seen, row.remote_id) == ("fp3", "v2", "9")
