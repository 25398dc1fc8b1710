"""Small SQL helpers shared by the store modules (dialect differences live here)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Boolean, Connection, Table, TextClause, any_, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


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


class OneOf(ColumnElement):
    """``column`` is one of the list passed as parameter ``name`` (see ``one_of``)."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [  # noqa: RUF012 - SQLAlchemy's cache-key protocol
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]

    def __init__(self, column, name: str) -> None:  # noqa: ANN001
        self.column = column
        self.name = name


def one_of(column, name: str) -> OneOf:  # noqa: ANN001
    """``column`` is one of the list passed at execution as parameter ``name``.

    PostgreSQL gets one array parameter, ``column = ANY(%(name)s)``: the statement's
    text is the same whatever the list's length, and its generic plan (psycopg
    prepares a statement run five times; PostgreSQL may then plan it once for any
    values) assumes a short list and walks the index.  ``IN ($1, …, $500)`` was given,
    while its table was still small, a generic sequential scan that compares each row
    with 500 parameters one by one; it kept that plan as the table grew, and a batch
    lookup took 63 ms at 9,000 bindings and 126 ms at 18,000 (docs/architecture.md,
    "Throughput").  SQLite gets an expanding ``IN (?, …)``.
    """
    return OneOf(column, name)


@compiles(OneOf)
def _in_list(element: OneOf, compiler, **kw) -> str:  # noqa: ANN001
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(OneOf, "postgresql")
def _any_array(element: OneOf, compiler, **kw) -> str:  # noqa: ANN001
    array = bindparam(element.name, type_=postgresql.ARRAY(element.column.type))
    return compiler.process(element.column == any_(array), **kw)


def insert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[dict],
    conflict: list[str],
    update: Sequence[str] = (),
    returning: Sequence[str] = (),
) -> list:
    """Insert ``rows`` (dicts with the same keys) in one statement; a row whose
    ``conflict`` columns are taken is skipped, or sets its ``update`` columns.

    Returns the ``returning`` columns of the rows written.  On PostgreSQL the batch
    goes as one JSON parameter, ``INSERT … SELECT … FROM json_to_recordset(…)``: one
    parameter where a multi-row ``VALUES`` binds thousands, the same short text for
    any batch size, and no per-value quoting in the driver (psycopg quotes each
    string of a text array with a regular expression: a quarter of the engine
    bench's time).  SQLite takes the rows as ``executemany`` (no round trips).
    """
    if not rows:
        return []
    columns = list(rows[0])
    if conn.dialect.name != "postgresql":
        if update:
            stmt = upsert(conn, table, conflict, list(update))
        else:
            stmt = insert_ignoring_duplicates(conn, table, conflict)
        if returning:
            return conn.execute(stmt.returning(*(table.c[c] for c in returning)), rows).all()
        conn.execute(stmt, rows)
        return []
    stmt = _recordset_insert(
        table, tuple(columns), tuple(conflict), tuple(update), tuple(returning)
    )
    result = conn.execute(stmt, {"rows": dumps(rows)})
    return result.all() if returning else []


_recordset_statements: dict[tuple, TextClause] = {}


def _recordset_insert(
    table: Table, columns: tuple, conflict: tuple, update: tuple, returning: tuple
) -> TextClause:
    key = (table.name, columns, conflict, update, returning)
    if key not in _recordset_statements:
        pg = postgresql.dialect()
        name = pg.identifier_preparer.quote

        def names(cols: tuple) -> str:
            return ", ".join(name(c) for c in cols)

        shape = ", ".join(f"{name(c)} {table.c[c].type.compile(dialect=pg)}" for c in columns)
        action = "DO NOTHING"
        if update:
            action = "DO UPDATE SET " + ", ".join(f"{name(c)} = excluded.{name(c)}" for c in update)
        sql = (
            f"INSERT INTO {name(table.name)} ({names(columns)}) SELECT {names(columns)} "
            f"FROM json_to_recordset(CAST(:rows AS json)) AS r({shape}) "
            f"ON CONFLICT ({names(conflict)}) {action}"
        )
        if returning:
            sql += f" RETURNING {names(returning)}"
        _recordset_statements[key] = text(sql)
    return _recordset_statements[key]


IN_LIST = 500  # values bound in one ``IN (...)``: well under SQLite's variable limit


def chunks(items: Sequence, size: int = IN_LIST) -> Iterator[Sequence]:
    """``items`` in slices of ``size``, for queries that bind a list into ``IN (...)``."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)
