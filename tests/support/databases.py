"""Test databases: a SQLite file per test, and one PostgreSQL database per test session.

PostgreSQL is never skipped: when it cannot be reached the tests that need it
fail with the reason (``scripts/ensure-postgres`` starts it on CI).
"""

from __future__ import annotations

import os
import uuid

import sqlalchemy as sa

ADMIN_URL = os.environ.get(
    "SYNCD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


class PostgresUnavailable(RuntimeError):
    pass


def create_pg_database() -> tuple[str, str]:
    """Create a fresh database; returns (url, name)."""
    name = f"syncd_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
    except Exception as exc:
        raise PostgresUnavailable(
            f"PostgreSQL at {ADMIN_URL} cannot be reached ({exc.__class__.__name__}: {exc}); "
            "start it (scripts/ensure-postgres) — store tests run on SQLite and PostgreSQL"
        ) from exc
    url = sa.engine.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    return url, name


def drop_pg_database(name: str) -> None:
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()
