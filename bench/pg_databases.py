"""A fresh PostgreSQL database for one bench run, and dropping it after.

    url = fresh_database("syncd_soak_123")      # on SYNCD_BENCH_PG_URL's server
    ...
    drop_database("syncd_soak_123")

The server is SYNCD_BENCH_PG_URL's (default the local one, user postgres).
"""

from __future__ import annotations

import os

import sqlalchemy as sa

ADMIN = os.environ.get(
    "SYNCD_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _admin(statement: str) -> None:
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(statement)
    admin.dispose()


def fresh_database(name: str) -> str:
    """Create database ``name``; returns its URL."""
    _admin(f'CREATE DATABASE "{name}"')
    return sa.engine.make_url(ADMIN).set(database=name).render_as_string(False)


def drop_database(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
