"""Small SQL helpers shared by the store modules (dialect differences live here)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignoring_duplicates(conn: Connection, table: Table, conflict_columns: list[str]):  # noqa: ANN201
    """INSERT … ON CONFLICT (cols) DO NOTHING for the connection's dialect."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=conflict_columns)


def upsert(conn: Connection, table: Table, conflict_columns: list[str], update: list[str]):  # noqa: ANN201
    """INSERT … ON CONFLICT (cols) DO UPDATE SET the ``update`` columns from the new row."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=conflict_columns, set_={c: stmt.excluded[c] for c in update}
    )


IN_LIST = 500  # values bound in one ``IN (...)``: well under SQLite's variable limit


def chunks(items: Sequence, size: int = IN_LIST) -> Iterator[Sequence]:
    """``items`` in slices of ``size``, for queries that bind a list into ``IN (...)``."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)
