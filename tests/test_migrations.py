"""The migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from syncd.store.schema import metadata


def test_migrated_schema_matches_the_declared_tables(store):
    assert store.is_migrated()
    with store.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    assert diff == []


def test_upgrade_twice_is_harmless(store):
    store.upgrade()
    assert store.current_revision() == store.head_revision()
