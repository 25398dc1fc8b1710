"""Copying the whole store into another database: SQLite to PostgreSQL, or back.

A move is made with syncd stopped: the target database is created and
migrated (``syncd db upgrade`` with ``SYNCD_DB_URL`` pointing at it), then
``copy_store`` copies every table of the schema, then the configuration is
switched to the target and syncd started again.  The copy:

- refuses unless the source is at this syncd's schema revision and the target
  at the same one, the target holds no rows, the source holds no table the
  schema does not know (it would be left behind), and no instance holds a
  lease on the source (a running daemon would go on writing after the copy);
- reads the source in one snapshot and writes the target in one transaction,
  table by table in dependency order, in batches; a failure leaves the target
  as empty as it was;
- moves PostgreSQL's sequences past the copied ids (``inbox.id`` and the
  other serial keys), so that the next row the daemon writes gets a new id;
  the identity counter is a row of ``identity_seq`` and travels with the data;
- counts every table on both sides before committing and again afterwards.

Only URLs with their passwords hidden appear in messages.

    report = copy_store("sqlite:////var/lib/syncd/syncd.db",
                        "postgresql://syncd@db.internal/syncd")
    report.rows   # {"inbox": 120431, "outbox": 98210, ...}
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Integer, Row, Table, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from syncd.errors import SyncdError
from syncd.store import schema
from syncd.store.db import Store

# Alembic's own bookkeeping: the revisions are compared, never copied.
VERSION_TABLE = "alembic_version"
Progress = Callable[[str, int], None]


class CopyRefused(SyncdError):
    """The copy cannot begin; the message says why and what to do. Nothing was written."""


class CopyFailed(SyncdError):
    """The copy broke off; its transaction was rolled back, so the target is as it was."""


@dataclass
class CopyReport:
    source: str  # URLs without passwords
    target: str
    revision: str
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows copied and verified
    sequences: dict[str, int] = field(default_factory=dict)  # PostgreSQL sequence -> next value
    seconds: float = 0.0


def copy_store(
    source_url: str,
    target_url: str,
    *,
    batch_size: int = 1000,
    progress: Progress | None = None,
    now: float | None = None,
) -> CopyReport:
    """Copy every table of the store at ``source_url`` into the empty, migrated ``target_url``."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    _require_file("source", source_url)
    _require_file("target", target_url)
    if _same_database(source_url, target_url):
        raise CopyRefused("the source and the target are the same database")
    started = time.monotonic()
    source, target = Store.open(source_url), Store.open(target_url)
    try:
        report = CopyReport(source.describe(), target.describe(), "")
        report.revision = _check_revisions(source, target)
        expected = _copy_tables(
            source,
            target,
            batch_size,
            progress or (lambda _t, _n: None),
            time.time() if now is None else now,
        )
        report.sequences = _analyze_and_read_sequences(target)
        with target.read() as conn:
            _compare_counts(expected, _counts(conn), "after the commit")
        report.rows = expected
    finally:
        source.dispose()
        target.dispose()
    report.seconds = time.monotonic() - started
    return report


# -- the checks --------------------------------------------------------------------


def _require_file(role: str, url: str) -> None:
    """A SQLite URL must name an existing file: opening would create an empty one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return
    if not parsed.database or parsed.database == ":memory:":
        raise CopyRefused(f"the {role} must be a SQLite file or a PostgreSQL database")
    if not Path(parsed.database).is_file():
        hint = (
            " (create it with `syncd db upgrade` and SYNCD_DB_URL set to it)"
            if role == "target"
            else ""
        )
        raise CopyRefused(f"the {role} SQLite file {parsed.database} does not exist{hint}")


def _same_database(a: str, b: str) -> bool:
    def key(url: str) -> tuple:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            return ("sqlite", str(Path(parsed.database or "").resolve()))
        return ("pg", parsed.host or "", parsed.port or 5432, parsed.database)

    return key(a) == key(b)


def _check_revisions(source: Store, target: Store) -> str:
    head = source.head_revision()
    have = source.current_revision()
    if have is None:
        raise CopyRefused(f"the source {source.describe()} holds no syncd store (never migrated)")
    if have != head:
        raise CopyRefused(
            f"the source is at schema revision {have}, this syncd at {head}: "
            "migrate the source first (`syncd db upgrade`), or copy with the syncd "
            "version that wrote it"
        )
    there = target.current_revision()
    if there != have:
        state = f"revision {there}" if there else "no revision (not migrated)"
        raise CopyRefused(
            f"the target {target.describe()} is at {state}, the source at {have}: "
            "migrate the target first (`syncd db upgrade` with SYNCD_DB_URL set to the target)"
        )
    return have


def _check_source(conn: Connection, now: float) -> None:
    known = set(schema.metadata.tables) | {VERSION_TABLE}
    unknown = sorted(set(inspect(conn).get_table_names()) - known)
    if unknown:
        raise CopyRefused(
            f"the source holds table(s) this syncd does not know: {', '.join(unknown)}; "
            "they would not be copied"
        )
    live = conn.execute(
        select(schema.leases.c.name, schema.leases.c.owner, schema.leases.c.expires_at)
        .where(schema.leases.c.expires_at > now)
        .order_by(schema.leases.c.name)
    ).all()
    if live:
        held = ", ".join(f"{r.name} by {r.owner} ({r.expires_at - now:.0f} s left)" for r in live)
        raise CopyRefused(
            f"syncd is running on the source: lease(s) held: {held}. Stop every instance "
            "(`systemctl stop syncd`); the leases of a crashed one lapse within "
            "engine.lease_ttl_seconds"
        )


def _check_target_empty(conn: Connection, target: Store) -> None:
    filled = [
        t.name
        for t in schema.metadata.sorted_tables
        if conn.execute(select(1).select_from(t).limit(1)).first() is not None
    ]
    if filled:
        raise CopyRefused(
            f"the target {target.describe()} is not empty (rows in {', '.join(filled)}); "
            "copy only into a freshly migrated database"
        )


# -- the copy ----------------------------------------------------------------------


def _copy_tables(
    source: Store, target: Store, batch_size: int, progress: Progress, now: float
) -> dict[str, int]:
    copied: dict[str, int] = {}
    with _snapshot(source) as src, target.begin() as dst:
        # Checked in the transactions that copy: what is checked is what is copied.
        _check_source(src, now)
        _check_target_empty(dst, target)
        for table in schema.metadata.sorted_tables:
            copied[table.name] = _copy_table(src, dst, table, batch_size, progress)
        _advance_sequences(dst)
        # Inside the transaction: a difference rolls everything back.
        _compare_counts(copied, _counts(dst), "before the commit")
        _compare_counts(_counts(src), copied, "against the source")
    return copied


def _copy_table(
    src: Connection, dst: Connection, table: Table, batch_size: int, progress: Progress
) -> int:
    rows = 0
    write = _copy_in if dst.dialect.name == "postgresql" else _insert
    query = select(table).order_by(*table.primary_key.columns)
    result = src.execute(query, execution_options={"yield_per": batch_size})
    for batch in result.partitions(batch_size):
        try:
            write(dst, table, batch)
        except Exception as exc:
            raise CopyFailed(
                f"table {table.name}, rows {rows + 1}..{rows + len(batch)}: {_reason(exc)}"
            ) from None
        rows += len(batch)
        progress(table.name, rows)
    return rows


def _insert(conn: Connection, table: Table, batch: Sequence[Row]) -> None:
    conn.execute(table.insert(), [row._asdict() for row in batch])


def _copy_in(conn: Connection, table: Table, batch: Sequence[Row]) -> None:
    """PostgreSQL's COPY: several times faster than INSERTs, in the same transaction."""
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(c.name) for c in table.columns)
    driver = conn.connection.driver_connection
    statement = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in batch:
            copy.write_row(tuple(row))


def _reason(exc: Exception) -> str:
    """The driver's own words: never the statement's parameters (they are data)."""
    inner = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(inner).strip().splitlines()
    return lines[0] if lines else type(inner).__name__


@contextmanager
def _snapshot(store: Store) -> Iterator[Connection]:
    """One read transaction that sees every table as of the same moment."""
    if store.dialect != "postgresql":
        with store.read() as conn:  # SQLite: a read transaction is a snapshot (WAL)
            yield conn
        return
    with store.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            yield conn


def _advance_sequences(conn: Connection) -> None:
    """Set each PostgreSQL sequence behind an integer column past the largest copied value.

    SQLite needs nothing: an INTEGER PRIMARY KEY continues after the largest rowid.
    """
    if conn.dialect.name != "postgresql":
        return
    quote = conn.dialect.identifier_preparer.quote
    for table, column, sequence in _sequences(conn):
        conn.execute(
            text(
                f"SELECT setval(:seq, COALESCE((SELECT max({quote(column)}) "
                f"FROM {quote(table)}), 0) + 1, false)"
            ),
            {"seq": sequence},
        )


def _sequences(conn: Connection) -> list[tuple[str, str, str]]:
    """(table, column, sequence) for every serial or identity column of the schema."""
    found = []
    for table in schema.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, Integer):
                continue
            sequence = conn.execute(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": table.name, "column": column.name},
            ).scalar()
            if sequence:
                found.append((table.name, column.name, sequence))
    return found


def _analyze_and_read_sequences(target: Store) -> dict[str, int]:
    """PostgreSQL: statistics for the planner at once (autovacuum comes later), and
    each sequence's next value for the report."""
    if target.dialect != "postgresql":
        return {}
    nexts = {}
    with target.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in schema.metadata.sorted_tables:
            conn.execute(text(f"ANALYZE {conn.dialect.identifier_preparer.quote(table.name)}"))
        for _table, _column, sequence in _sequences(conn):
            row = conn.execute(text(f"SELECT last_value, is_called FROM {sequence}")).one()
            nexts[sequence] = row.last_value + 1 if row.is_called else row.last_value
    return nexts


def _counts(conn: Connection) -> dict[str, int]:
    return {
        t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
        for t in schema.metadata.sorted_tables
    }


def _compare_counts(expected: dict[str, int], found: dict[str, int], when: str) -> None:
    wrong = [
        f"{t}: {expected[t]} vs {found.get(t)}" for t in expected if found.get(t) != expected[t]
    ]
    if wrong:
        raise CopyFailed(f"row counts differ {when}: {'; '.join(wrong)}")
