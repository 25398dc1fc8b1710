"""The migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from syncd.model import Command, Event
from syncd.store import Store, bindings
from syncd.store import inbox as inbox_store
from syncd.store import outbox as outbox_store
from syncd.store.schema import bindings as bindings_table
from syncd.store.schema import inbox, inbox_seen, metadata, outbox
from tests.support.databases import create_pg_database, drop_pg_database


def test_migrated_schema_matches_the_declared_tables(store):
    assert store.is_migrated()
    with store.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    assert diff == []


def test_upgrade_twice_is_harmless(store):
    """Upgrading a store already at head changes nothing: what it holds is all still there."""
    with store.begin() as conn:
        inbox_store.add(conn, [Event("erp", "order", "O-1", "v1", {"Номер": "1"})], "orders")
        outbox_store.enqueue(conn, [Command("crm", "order", "O-1", "upsert", {"a": 1}, "k-1")])
        (command_id,) = conn.execute(select(outbox.c.id)).scalars().all()
        bindings.remember(conn, {("erp", "order", "O-1"): {"stage": "new"}})
    store.upgrade()
    assert store.current_revision() == store.head_revision()
    store.upgrade()
    with store.read() as conn:
        (event,) = inbox_store.pending(conn, 10)
        command = outbox_store.get(conn, command_id)
        facts = bindings.get(conn, "erp", "order", "O-1").facts
    assert (event.external_id, event.payload) == ("O-1", {"Номер": "1"})
    assert (command.key, command.payload, command.idempotency_key) == ("O-1", {"a": 1}, "k-1")
    assert facts == {"stage": "new"}


@contextmanager
def unmigrated_store(tmp_path: Path, backend: str) -> Iterator[Store]:
    """A store of its own on ``backend``, with no migration applied yet; gone after."""
    if backend == "sqlite":
        url, name = f"sqlite:///{tmp_path / 'syncd.db'}", None
    else:
        url, name = create_pg_database()
    store = Store.open(url)
    try:
        yield store
    finally:
        store.dispose()
        if name:
            drop_pg_database(name)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0006_moves_the_thin_rows_retention_left_into_inbox_seen(tmp_path, backend):
    with unmigrated_store(tmp_path, backend) as store:
        store.upgrade("0005")
        row = {"stream": "s", "system": "erp", "entity": "order", "observed_at": 1.0}
        with store.begin() as conn:  # as retention before 0006 left them: thin rows
            conn.execute(
                inbox.insert(),
                [
                    {**row, "external_id": "A", "version": "2", "payload": "", "state": "pruned"},
                    {**row, "external_id": "B", "version": "1", "payload": "{}", "state": "done"},
                ],
            )
        store.upgrade("0006")
        with store.read() as conn:
            left = conn.execute(select(inbox.c.external_id, inbox.c.state)).all()
            kept = conn.execute(text("SELECT * FROM inbox_seen")).all()
        assert left == [("B", "done")]
        assert [tuple(r) for r in kept] == [("A", "erp", "order", "2")]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0007_keys_the_kept_versions_by_digest_and_a_repeat_is_still_dropped(tmp_path, backend):
    with unmigrated_store(tmp_path, backend) as store:
        store.upgrade("0006")
        state_key = "Заказ=8f1c…;Заказ_Type=StandardODATA.Document_ЗаказКлиента"
        kept_before = [("A", "erp", "order", "2"), (state_key, "erp", "order_state", "AAAB")]
        with store.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO inbox_seen (external_id, system, entity, version) "
                    "VALUES (:i, :s, :e, :v)"
                ),
                [{"i": i, "s": s, "e": e, "v": v} for i, s, e, v in kept_before],
            )
        store.upgrade()
        with store.read() as conn:
            assert conn.execute(select(inbox_seen.c.object_digest)).scalars().all() != []
            assert inbox_store.kept_versions(
                conn,
                [("erp", "order", "A"), ("erp", "order_state", state_key), ("erp", "order", "B")],
            ) == {("erp", "order", "A"): "2", ("erp", "order_state", state_key): "AAAB"}
        with store.begin() as conn:
            repeat, newer = Event("erp", "order", "A", "2", {}), Event("erp", "order", "A", "3", {})
            assert inbox_store.add(conn, [repeat, newer], "s") == 1  # the repeat dropped
        with store.engine.begin() as conn:  # the digests cannot give the ids back: versions go
            command.downgrade(store._alembic_config(conn), "0006")
        with store.read() as conn:
            assert conn.execute(text("SELECT count(*) FROM inbox_seen")).scalar() == 0
        store.upgrade()
        assert store.current_revision() == store.head_revision()


FACTS = select(bindings_table.c.external_id, bindings_table.c.facts)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0009_packs_the_facts_stored_before_and_unpacks_them_going_back(tmp_path, backend):
    figures = {"base": {"fields": {"number": "ЗК-1"}, "stage": "agreed"}, "created": True}
    as_json = bindings.facts_text(figures)
    with unmigrated_store(tmp_path, backend) as store:
        store.upgrade("0008")
        row = {"system": "erp", "entity": "order", "updated_at": 1.0}
        with store.begin() as conn:  # as syncd before 0009 wrote them: JSON
            conn.execute(
                bindings_table.insert(),
                [
                    {**row, "link": "l1", "external_id": "A", "facts": as_json},
                    {**row, "link": "l2", "external_id": "B", "facts": None},
                ],
            )
        store.upgrade()
        with store.read() as conn:
            stored = dict(conn.execute(FACTS).all())
            assert bindings.get(conn, "erp", "order", "A").facts == figures
        assert stored["A"].startswith("z1:") and stored["B"] is None
        with store.engine.begin() as conn:
            command.downgrade(store._alembic_config(conn), "0008")
        with store.read() as conn:
            stored = dict(conn.execute(FACTS).all())
        assert stored == {"A": as_json, "B": None}
