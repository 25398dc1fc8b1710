"""Retention: what the store forgets once it is old, and what it keeps for good.

Without it the store only grows: every order leaves several inbox events, each
with the object's whole state as JSON, and commands, dead letters and
conflicts stay after they are finished.  Retention prunes them in batches of
``retention.batch_rows``, each batch its own short transaction, so that the
daemon's own writes never wait long behind it (``syncd/engine/housekeeping.py``
runs the batches a few at a time from the main loop).

What goes, and when:

- **inbox** — an event processed (``done`` or ``failed``) more than
  ``events_days`` ago is deleted.  Of the newest event of each object the
  version stays, in ``inbox_seen`` (one short row per object: a 16-byte
  digest of its system, entity and external id, and the version), so that a
  repeat of that very change is still dropped by ``inbox.add``.  Pending events are never touched.
- The inbox's newest row is never deleted, whatever its age: SQLite numbers a
  new row one past the highest left, and event ids must never come back
  (the order flow's facts remember the last event id folded in).
- Kept whole, whatever their age, while an operator may still need them: the
  newest event of an object with an open conflict (``syncd conflicts
  resolve`` plans it again) and an event with an open dead letter, with the
  newest event of its object (``syncd dead-letters retry`` plans it again).
- **outbox** — commands finished (``done``, ``discarded``, ``superseded``)
  more than ``commands_days`` ago (the newest row always stays, as in the
  inbox).  Planning compares new commands with what
  was written through the bindings' fingerprints, which stay.
- **dead_letters**, **conflicts** — resolved ones, resolved more than
  ``dead_letters_days`` / ``conflicts_days`` ago.  Open ones stay.

Never touched: bindings (the ids of one object across systems, what the flows
remember of it, the fingerprint and version of syncd's own last write — echo
detection lives there), ``inbox_seen``, the identity tables, cursors and
leases.

After pruning, a repeat of an object's newest change is dropped as before; a
repeat of an older change, whose row was deleted, is stored again and
planned: the order flow finds it older than what its facts hold (the CRM's
history id, 1C's ``DataVersion``) and plans nothing.  ``syncd inbox replay``
re-plans every event whose payload is still held: every event processed within
``events_days``, and the newest event of each object with an open conflict or
dead letter.

Freed space: SQLite gives the freed pages back to the file system in small
steps (``give_back_pages``: ``PRAGMA incremental_vacuum``; the file is in
incremental auto-vacuum mode, see ``Store.incremental_vacuum_on``).
PostgreSQL's autovacuum makes the space reusable (eager settings on the
churning tables, migration 0005); where it lags behind, or is off, housekeeping
vacuums a churning table itself once more than ``vacuum_dead_ratio`` of its
rows are dead (``bloated_tables``, ``vacuum``).

Cutoffs come from ``syncd.clock.now()``, which a benchmark may move forward.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, text

from syncd.store import Store, inbox
from syncd.store.bindings import Ref
from syncd.store.conflicts import object_ref
from syncd.store.schema import FINISHED_SQL, PROCESSED_SQL, metadata
from syncd.store.sql import chunks, loads

# -- the SQL, in one place ---------------------------------------------------------
# Processed events older than the cutoff, oldest first, from a position (the last
# row of the previous batch): rows kept for an operator are passed over, not met
# again.  ``superseded``: a newer event of the same object exists.
_OLD_EVENTS = f"""
    SELECT inbox.id, inbox.system, inbox.entity, inbox.external_id, inbox.processed_at,
           EXISTS (SELECT 1 FROM inbox AS newer
                   WHERE newer.external_id = inbox.external_id
                     AND newer.system = inbox.system
                     AND newer.entity = inbox.entity
                     AND newer.id > inbox.id) AS superseded
    FROM inbox {{hint}}
    WHERE {PROCESSED_SQL}
      AND inbox.processed_at < :cutoff
      AND (inbox.processed_at, inbox.id) > (:after_at, :after_id)
      AND inbox.id < (SELECT max(id) FROM inbox)
    ORDER BY inbox.processed_at, inbox.id
    LIMIT :limit
"""
OLD_EVENTS = {
    # SQLite, without statistics, would rather walk ix_inbox_state_id and sort it all
    "sqlite": text(_OLD_EVENTS.format(hint="INDEXED BY ix_inbox_processed")),
    "postgresql": text(_OLD_EVENTS.format(hint="")),
}

# The state is checked again: an event put back to pending meanwhile stays.
DELETE_EVENTS = text(f"DELETE FROM inbox WHERE id IN :ids AND {PROCESSED_SQL}").bindparams(
    bindparam("ids", expanding=True)
)
# The newest event of each object: its version kept (replacing an older one kept)
# before the row goes (inbox.keep_versions).
NEWEST_VERSIONS = text(
    f"SELECT system, entity, external_id, version FROM inbox WHERE id IN :ids AND {PROCESSED_SQL}"
).bindparams(bindparam("ids", expanding=True))

OPEN_EVENT_LETTERS = text(
    "SELECT ref_id FROM dead_letters WHERE state = 'open' AND kind = 'event' AND ref_id IS NOT NULL"
)
OBJECTS_OF_EVENTS = text(
    "SELECT system, entity, external_id FROM inbox WHERE id IN :ids"
).bindparams(bindparam("ids", expanding=True))
OPEN_CONFLICTS = text("SELECT entity, object_key, details FROM conflicts WHERE state = 'open'")

OLD_COMMANDS = text(f"""
    DELETE FROM outbox WHERE id IN (
        SELECT outbox.id FROM outbox
        WHERE {FINISHED_SQL} AND outbox.done_at < :cutoff
          AND outbox.id < (SELECT max(id) FROM outbox)
        ORDER BY outbox.done_at
        LIMIT :limit)
""")
# dead letters and conflicts alike: resolved ones, oldest first
_OLD_RESOLVED = """
    DELETE FROM {table} WHERE id IN (
        SELECT id FROM {table}
        WHERE state <> 'open' AND resolved_at < :cutoff
        ORDER BY id
        LIMIT :limit)
"""
OLD_RESOLVED = {t: text(_OLD_RESOLVED.format(table=t)) for t in ("dead_letters", "conflicts")}

# PostgreSQL: the tables syncd churns (rows updated or deleted all day), with the
# statistics' count of their live and dead rows, and of their TOAST table's chunks: a
# value over ~2 KB (a frequent buyer's figures) lives there, and every update of it
# leaves its old chunks dead there, however few of the table's own rows are dead.
CHURNING = ("inbox", "inbox_seen", "outbox", "bindings", "dead_letters", "cursors", "leases")
PG_DEAD_ROWS = text("""
    SELECT h.relname, h.n_live_tup, h.n_dead_tup,
           coalesce(t.n_live_tup, 0), coalesce(t.n_dead_tup, 0)
    FROM pg_stat_user_tables AS h
    JOIN pg_class AS c ON c.oid = h.relid
    LEFT JOIN pg_stat_all_tables AS t ON t.relid = c.reltoastrelid
    WHERE h.schemaname = current_schema() AND h.relname IN :names
""").bindparams(bindparam("names", expanding=True))
PG_TOAST_OF = text(
    "SELECT reltoastrelid::regclass::text FROM pg_class "
    "WHERE oid = to_regclass(:table) AND reltoastrelid <> 0"
)
# fewer are not worth a vacuum, whatever the share (at 200, the bindings' TOAST table of
# ~500 chunks, frequent buyers' figures, reached 30% dead between two vacuums)
LEAST_DEAD_ROWS = 50

PG_TABLES_SIZE = text(
    "SELECT coalesce(sum(pg_total_relation_size(to_regclass(name))), 0) "
    "FROM unnest(CAST(:names AS text[])) AS name"
)


# -- inbox --------------------------------------------------------------------------
@dataclass(frozen=True)
class EventsBatch:
    deleted: int
    versions_kept: int  # of those, the newest of their object: version kept in inbox_seen
    position: tuple[float, int]  # where the next batch goes on from
    finished: bool  # nothing older than the cutoff is left to look at


START = (-1.0, 0)  # before every processed event


def prune_events(
    conn: Connection, cutoff: float, limit: int, after: tuple[float, int] = START
) -> EventsBatch:
    """One batch of the inbox: up to ``limit`` old processed events deleted."""
    rows = conn.execute(
        OLD_EVENTS[conn.dialect.name],
        {"cutoff": cutoff, "after_at": after[0], "after_id": after[1], "limit": limit},
    ).all()
    if not rows:
        return EventsBatch(0, 0, after, True)
    kept_ids, kept_objects = held_for_operators(conn)
    superseded, newest = [], []
    for row in rows:
        if row.id in kept_ids:
            continue
        if row.superseded:
            superseded.append(row.id)
        elif (row.system, row.entity, row.external_id) not in kept_objects:
            newest.append(row.id)
    kept = 0
    if newest:
        versions = conn.execute(NEWEST_VERSIONS, {"ids": newest}).all()
        kept = inbox.keep_versions(conn, (((s, e, i), v) for s, e, i, v in versions))
    gone = superseded + newest
    deleted = conn.execute(DELETE_EVENTS, {"ids": gone}).rowcount if gone else 0
    last = rows[-1]
    return EventsBatch(deleted, kept, (last.processed_at, last.id), len(rows) < limit)


def held_for_operators(conn: Connection) -> tuple[set[int], set[Ref]]:
    """Events an open dead letter names, and the objects whose newest event must keep its
    payload: those of these events, and those with an open conflict."""
    event_ids = {ref_id for (ref_id,) in conn.execute(OPEN_EVENT_LETTERS)}
    objects: set[Ref] = set()
    for ids in chunks(sorted(event_ids)):
        objects.update(tuple(r) for r in conn.execute(OBJECTS_OF_EVENTS, {"ids": ids}))
    for entity, object_key, details in conn.execute(OPEN_CONFLICTS):
        objects.add(object_ref(entity, object_key, loads(details)))
    return event_ids, objects


# -- outbox, dead letters, conflicts ----------------------------------------------------
def prune_commands(conn: Connection, cutoff: float, limit: int) -> int:
    """Up to ``limit`` commands finished before ``cutoff``, deleted."""
    return conn.execute(OLD_COMMANDS, {"cutoff": cutoff, "limit": limit}).rowcount


def prune_dead_letters(conn: Connection, cutoff: float, limit: int) -> int:
    """Up to ``limit`` dead letters resolved before ``cutoff``, deleted (open ones stay)."""
    return _prune_resolved(conn, "dead_letters", cutoff, limit)


def prune_conflicts(conn: Connection, cutoff: float, limit: int) -> int:
    """Up to ``limit`` conflicts resolved before ``cutoff``, deleted (open ones stay)."""
    return _prune_resolved(conn, "conflicts", cutoff, limit)


def _prune_resolved(conn: Connection, table: str, cutoff: float, limit: int) -> int:
    return conn.execute(OLD_RESOLVED[table], {"cutoff": cutoff, "limit": limit}).rowcount


# -- space ------------------------------------------------------------------------------
def free_pages(store: Store) -> int:
    """SQLite: pages of the file that hold nothing (0 on PostgreSQL)."""
    if store.dialect != "sqlite":
        return 0
    with store.engine.connect() as conn:
        return conn.connection.driver_connection.execute("PRAGMA freelist_count").fetchone()[0]


def give_back_pages(store: Store, pages: int) -> int:
    """SQLite: return up to ``pages`` free pages to the file system, in a transaction of
    its own; returns how many went (0 on PostgreSQL, where autovacuum does this)."""
    if store.dialect != "sqlite":
        return 0
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection  # autocommit (see db._sqlite_engine)
        before = raw.execute("PRAGMA freelist_count").fetchone()[0]
        # executescript steps the pragma to its end (execute frees one page only)
        raw.executescript(f"PRAGMA incremental_vacuum({int(pages)})")
        return before - raw.execute("PRAGMA freelist_count").fetchone()[0]


def bloated_tables(store: Store, ratio: float) -> list[tuple[str, float, bool]]:
    """PostgreSQL: the churning tables with more than ``ratio`` of their rows, or of
    their TOAST chunks, dead (and at least LEAST_DEAD_ROWS), most bloated first: (table,
    that share, whether only its TOAST table is); [] on SQLite."""
    if store.dialect != "postgresql" or ratio <= 0:
        return []
    with store.read() as conn:
        rows = conn.execute(PG_DEAD_ROWS, {"names": list(CHURNING)}).all()
    found = []
    for name, live, dead, toast_live, toast_dead in rows:
        own, toast = _dead_share(live, dead), _dead_share(toast_live, toast_dead)
        if max(own, toast) > ratio:
            found.append((name, max(own, toast), own <= ratio))
    return sorted(found, key=lambda t: -t[1])


def _dead_share(live: int, dead: int) -> float:
    return dead / (live + dead) if dead >= LEAST_DEAD_ROWS else 0.0


def vacuum(store: Store, table: str, *, toast_only: bool = False, analyze: bool = False) -> None:
    """PostgreSQL: ``VACUUM`` one of syncd's tables (``analyze``: and its statistics), or
    only its TOAST table (a few chunks rewritten often in a large table: vacuuming the
    whole table for them took 0.1-0.35 s a time), outside any transaction."""
    if table not in CHURNING:
        raise ValueError(f"not a table syncd churns: {table!r}")
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        target = table
        if toast_only:
            target = conn.execute(PG_TOAST_OF, {"table": table}).scalar_one_or_none() or table
        conn.exec_driver_sql(f"VACUUM (ANALYZE) {target}" if analyze else f"VACUUM {target}")


def size_bytes(store: Store) -> int:
    """What the store takes on disk: the SQLite file and its WAL; on PostgreSQL syncd's
    tables with their indexes and TOAST."""
    if store.dialect == "sqlite":
        path = store.engine.url.database
        if not path or path == ":memory:":
            return 0
        files = (path, f"{path}-wal")
        return sum(os.path.getsize(f) for f in files if os.path.exists(f))
    names = [t.name for t in metadata.sorted_tables] + ["alembic_version"]
    with store.read() as conn:
        return int(conn.execute(PG_TABLES_SIZE, {"names": names}).scalar_one())
