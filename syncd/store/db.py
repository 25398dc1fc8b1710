"""Opening the store: one SQLAlchemy engine tuned for SQLite or PostgreSQL.

SQLite is the embedded default: WAL journal, full fsync, a busy timeout, and
write transactions that take the write lock up front (``BEGIN IMMEDIATE``) so
two threads never deadlock upgrading a read lock.  PostgreSQL is the
production store (psycopg 3, pre-pinged pooled connections).

    store = Store.open("sqlite:////var/lib/syncd/syncd.db")
    store.upgrade()                   # Alembic migrations to head
    with store.begin() as conn:       # one write transaction
        ...
    with store.read() as conn:        # a read-only snapshot
        ...
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from syncd.store import schema

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
INCREMENTAL = 2  # PRAGMA auto_vacuum: 0 none, 1 full, 2 incremental
# What SQLite may keep in memory for the whole process (page caches above all).
SQLITE_HEAP_LIMIT_BYTES = 32 * 1024 * 1024

# syncd's transactions are short.  A process paused inside one (SIGSTOP, a VM
# freeze) must not hold row locks — a lease row above all — for ever: PostgreSQL
# ends such a session after 15 s idle in its transaction, and nobody waits more
# than 10 s for a lock (the caller retries at its next iteration).
PG_SESSION_OPTIONS = "-c lock_timeout=10000 -c idle_in_transaction_session_timeout=15000"


class Store:
    """The database behind syncd, with its transactions and migrations."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @classmethod
    def open(cls, url: str, *, pool_size: int = 20) -> Store:
        """``pool_size`` connections are kept for reuse (as many again may be open
        for a burst, closed after it); each is opened at its first need."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            return cls(_sqlite_engine(url, pool_size))
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            connect_args={"options": PG_SESSION_OPTIONS},
        )
        return cls(engine)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: commits on success, rolls back on error."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (on SQLite it takes no write lock)."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(syncd_readonly=True)
            with conn.begin():
                yield conn

    def ping(self) -> None:
        with self.read() as conn:
            conn.execute(text("SELECT 1"))

    # -- migrations ------------------------------------------------------
    def _alembic_config(self, conn: Connection):  # noqa: ANN202 - alembic type
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to ``revision``; then give an SQLite file made
        before incremental auto-vacuum its one VACUUM (see ``incremental_vacuum_on``)."""
        from alembic import command

        with self.engine.begin() as conn:
            command.upgrade(self._alembic_config(conn), revision)
        if self.dialect == "sqlite" and revision == "head":
            self.incremental_vacuum_on()

    def incremental_vacuum_on(self) -> bool:
        """SQLite: make the file give back the pages retention frees (``PRAGMA
        incremental_vacuum``).  A file created before syncd set ``auto_vacuum`` at
        creation needs one VACUUM, which rewrites it whole: it takes as much free disk
        as the file's size and about a minute per GB, once.  It cannot run inside a
        transaction, so it runs here, after the migrations, on a connection of its own.
        Returns True when the file gives pages back (now or already); a failed VACUUM
        (a full disk, another process writing) is logged and tried at the next upgrade.
        """
        if self.engine.url.database in (None, "", ":memory:"):
            return False
        with self.engine.connect() as conn:
            raw = conn.connection.driver_connection  # autocommit: see _sqlite_engine
            if raw.execute("PRAGMA auto_vacuum").fetchone()[0] == INCREMENTAL:
                return True
            log.warning(
                "rewriting the SQLite store once (VACUUM) so that it gives freed space back; "
                "it needs free disk as large as the file: %s",
                self.describe(),
            )
            try:
                raw.execute("PRAGMA auto_vacuum=INCREMENTAL")
                raw.execute("VACUUM")
            except Exception as exc:  # the store still works; tried again next time
                log.warning("VACUUM failed, the file keeps its freed pages: %s", exc)
                return False
            return raw.execute("PRAGMA auto_vacuum").fetchone()[0] == INCREMENTAL

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.read() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str | None:
        from alembic.script import ScriptDirectory

        with self.engine.connect() as conn:
            return ScriptDirectory.from_config(self._alembic_config(conn)).get_current_head()

    def is_migrated(self) -> bool:
        return self.current_revision() == self.head_revision()

    def dispose(self) -> None:
        self.engine.dispose()

    def truncate_all(self) -> None:
        """Empty every table (tests and benchmarks)."""
        with self.begin() as conn:
            for table in reversed(schema.metadata.sorted_tables):
                conn.execute(table.delete())

    def describe(self) -> str:
        """The URL without its password, for logs and errors."""
        return self.engine.url.render_as_string(hide_password=True)


def _sqlite_engine(url: str, pool_size: int) -> Engine:
    parsed = make_url(url)
    connect_args = {"timeout": 30, "check_same_thread": False}
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        sized = {"pool_size": pool_size, "max_overflow": pool_size}
        engine = create_engine(url, connect_args=connect_args, **sized)
    else:  # one connection per thread (SQLAlchemy's pool for an in-memory database)
        engine = create_engine(url, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001
        # Let SQLAlchemy (not the driver) decide when a transaction starts.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # a new file gives freed pages back on request (retention's incremental_vacuum);
        # this takes effect only before the first table exists (see Store.upgrade)
        cur.execute("PRAGMA auto_vacuum=INCREMENTAL")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        # 16 MB of page cache per connection: the identity index stays warm
        cur.execute("PRAGMA cache_size=-16384")
        # ...but all connections' caches together stay under one budget: a pool of a
        # dozen connections, each filling its 16 MB as the store grows, made the
        # daemon's memory climb with the store's size (this limit is process-wide)
        cur.execute(f"PRAGMA soft_heap_limit={SQLITE_HEAP_LIMIT_BYTES}")
        # checkpoint every ~40 MB of WAL, not 4 MB: pages rewritten by several
        # commits (the tails of appended tables, hot index pages) reach the
        # database file once, which makes identity batches about a third faster
        cur.execute("PRAGMA wal_autocheckpoint=10000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        readonly = conn.get_execution_options().get("syncd_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine
