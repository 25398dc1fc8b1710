"""The identity tables: SQL kept in one place, batched for speed.

A batch's keys and records are looked up at once (``look``) and its writes
sent together (``save``): on PostgreSQL a match is two round trips.
Customer ids come from the ``identity_seq`` row, taken inside the caller's
transaction.

    with store.begin() as conn:
        hits, bound = look(conn, ["p:+79123456789"], [("pos:msk", "r-1")])
        # {"p:+79…": 7}, {}
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable

from sqlalchemy import Connection, func, select, update

from syncd.identity.people import FIELDS as PERSON_FIELDS
from syncd.store.schema import identities, identity_keys, identity_records

CHUNK = 500
FIELDS = {"p": "phones", "e": "emails", "c": "cards"}


def cursor_of(conn: Connection) -> tuple:
    """The DBAPI cursor inside the caller's transaction, and its placeholder.

    The hot path (lookups and inserts of whole batches) goes straight to the
    driver: SQLAlchemy's per-row parameter handling would cost more than the
    database does here.  On PostgreSQL a batch's lookups are one ``= ANY(array)``
    parameter each (parsing 500 ``IN`` placeholders cost more than the index).
    """
    placeholder = "?" if conn.dialect.name == "sqlite" else "%s"
    return conn.connection.dbapi_connection.cursor(), placeholder


def chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _sqlite_keys(conn: Connection, keys: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    cursor, _ = cursor_of(conn)
    for chunk in chunks(sorted(set(keys))):
        marks = ",".join("?" * len(chunk))
        cursor.execute(f"SELECT key, identity_id FROM identity_keys WHERE key IN ({marks})", chunk)
        found.update(dict(cursor.fetchall()))
    return found


def _sqlite_bound(
    conn: Connection, refs: Iterable[tuple[str, str]], columns: str = "identity_id"
) -> dict[tuple[str, str], tuple]:
    """(source, source id) -> ``columns`` of each record bound before."""
    by_source: dict[str, list[str]] = {}
    for source, source_id in set(refs):
        by_source.setdefault(source, []).append(source_id)
    found = {}
    cursor, _ = cursor_of(conn)
    for source, ids in by_source.items():
        for chunk in chunks(sorted(ids)):
            marks = ",".join("?" * len(chunk))
            cursor.execute(
                f"SELECT source_id, {columns} FROM identity_records "
                f"WHERE source = ? AND source_id IN ({marks})",
                [source, *chunk],
            )
            found.update({(source, row[0]): row[1:] for row in cursor.fetchall()})
    return found


# the records named by two arrays (sources, source ids): one round trip on PostgreSQL
_PG_RECORDS = (
    "FROM identity_records AS r JOIN unnest(%s::text[], %s::text[]) AS u(source, source_id) "
    "ON r.source = u.source AND r.source_id = u.source_id"
)


def bound_people(
    conn: Connection, refs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, str | None]]:
    """(source, source id) -> (its customer, what it said of the person as JSON) of the
    records bound before (``look`` without the keys, with the person)."""
    if conn.dialect.name == "sqlite":
        return _sqlite_bound(conn, refs, "identity_id, person")  # type: ignore[return-value]
    pairs = sorted(set(refs))
    cursor, _ = cursor_of(conn)
    cursor.execute(
        f"SELECT r.source, r.source_id, r.identity_id, r.person {_PG_RECORDS}",
        [[s for s, _ in pairs], [i for _, i in pairs]],
    )
    return {(s, i): (c, person) for s, i, c, person in cursor.fetchall()}


def look(
    conn: Connection, keys: Iterable[str], refs: Iterable[tuple[str, str]]
) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Who each key points to, and which records are bound to whom.

    SQLite: ``IN`` lists of 500 on the primary keys.  PostgreSQL: one round
    trip, with the keys as one array parameter (parsed once, not 500 times).
    """
    if conn.dialect.name == "sqlite":
        bound = {ref: row[0] for ref, row in _sqlite_bound(conn, refs).items()}
        return _sqlite_keys(conn, keys), bound
    wanted, pairs = sorted(set(keys)), sorted(set(refs))
    cursor, _ = cursor_of(conn)
    cursor.execute(
        "SELECT 'k', key, '', identity_id FROM identity_keys WHERE key = ANY(%s) "
        "UNION ALL "
        f"SELECT 'r', r.source, r.source_id, r.identity_id {_PG_RECORDS}",
        [wanted, [s for s, _ in pairs], [i for _, i in pairs]],
    )
    hits: dict[str, int] = {}
    found: dict[tuple[str, str], int] = {}
    for kind, first, second, identity in cursor.fetchall():
        if kind == "k":
            hits[first] = identity
        else:
            found[(first, second)] = identity
    return hits, found


def customers(conn: Connection, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """id -> (normalised name, the name as written)."""
    found = {}
    cursor, ph = cursor_of(conn)
    if conn.dialect.name != "sqlite":
        cursor.execute(
            "SELECT id, name, display_name FROM identities WHERE id = ANY(%s)", [sorted(set(ids))]
        )
        return {i: (n, d) for i, n, d in cursor.fetchall()}
    for chunk in chunks(sorted(set(ids))):
        marks = ",".join([ph] * len(chunk))
        cursor.execute(
            f"SELECT id, name, display_name FROM identities WHERE id IN ({marks})", chunk
        )
        found.update({i: (n, d) for i, n, d in cursor.fetchall()})
    return found


def allocate(conn: Connection, n: int) -> int:
    """The first of ``n`` fresh customer ids (the row lock serialises writers)."""
    cursor, ph = cursor_of(conn)
    cursor.execute(
        f"UPDATE identity_seq SET next_id = next_id + {ph} "
        "WHERE name = 'identity' RETURNING next_id",
        [n],
    )
    row = cursor.fetchone()
    if row is None:
        cursor.execute(
            f"INSERT INTO identity_seq (name, next_id) VALUES ('identity', {ph})", [1 + n]
        )
        return 1
    return row[0] - n


def save(
    conn: Connection,
    new: dict[int, tuple[str, str, str]],
    renamed: dict[int, tuple[str, str, str]],
    keys: dict[str, tuple[int, str]],
    records: list[tuple[str, str, int, str, bool]],
    merged: dict[int, int],
) -> None:
    """Write a resolved batch: new and renamed customers, new keys, records, merges.

    Customers are ``id -> (normalised name, name as written, its source)``; keys
    ``key -> (customer, source)``; records ``(source_id, source, customer, reason
    as JSON, known)``, where a known one was bound before and is updated.
    """
    now = time.time()
    cursor, _ = cursor_of(conn)
    writes = Writes(cursor, conn.dialect.name != "sqlite")
    if new:
        writes.insert(
            "identities (id, name, display_name, name_source, created_at, updated_at)",
            ("bigint", "text", "text", "text", "float8", "float8"),
            [(i, n[:255], d[:255], src[:100], now, now) for i, (n, d, src) in new.items()],
        )
    if renamed:
        writes.update(
            "identities",
            "name = u.c0, display_name = u.c1, name_source = u.c2, updated_at = u.c3",
            "t.id = u.c4",
            ("text", "text", "text", "float8", "bigint"),
            [(n[:255], d[:255], src[:100], now, i) for i, (n, d, src) in renamed.items()],
        )
    if keys:  # keys new to the index (known ones are moved by merges below)
        writes.insert(
            "identity_keys (key, identity_id, source)",
            ("text", "bigint", "text"),
            # in key order: the B-tree is walked once, not jumped about
            sorted((k, i, src[:100]) for k, (i, src) in keys.items()),
            "ON CONFLICT (key) DO NOTHING",
        )
    if merged:
        writes.flush()  # a merge moves keys and records written above: they must be in
    for loser, winner in merged.items():
        conn.execute(
            update(identity_keys)
            .where(identity_keys.c.identity_id == loser)
            .values(identity_id=winner)
        )
        conn.execute(
            update(identity_records)
            .where(identity_records.c.identity_id == loser)
            .values(identity_id=winner)
        )
        conn.execute(update(identities).where(identities.c.id == loser).values(merged_into=winner))
    fresh = [(r[0], r[1], r[2], r[3], now) for r in records if not r[4]]
    moved = [(r[2], r[3], r[1], r[0]) for r in records if r[4]]
    if fresh:
        writes.insert(
            "identity_records (source_id, source, identity_id, reason, created_at)",
            ("text", "text", "bigint", "text", "float8"),
            fresh,
            "ON CONFLICT (source_id, source) DO NOTHING",
        )
    if moved:  # a record seen before, now bound elsewhere (after a merge) or explained anew
        writes.update(
            "identity_records",
            "identity_id = u.c0, reason = u.c1",
            "t.source = u.c2 AND t.source_id = u.c3",
            ("bigint", "text", "text", "text"),
            moved,
        )
    writes.flush()


class Writes:
    """A batch's inserts and updates.

    SQLite: each at once with ``executemany``.  PostgreSQL: each is one
    statement over arrays (``unnest``), not a statement per row, and they are
    sent together as one statement (data-modifying ``WITH``): one round trip.
    In ``update``, ``u.cN`` is a row's N-th value and ``t.`` the table's column.
    """

    def __init__(self, cursor, pg: bool) -> None:  # noqa: ANN001
        self.cursor, self.pg = cursor, pg
        self.parts: list[tuple[str, list]] = []

    def insert(self, into: str, types: tuple, rows: list, tail: str = "") -> None:
        if not self.pg:
            marks = ", ".join("?" * len(types))
            self.cursor.executemany(f"INSERT INTO {into} VALUES ({marks}) {tail}", rows)
            return
        arrays = ", ".join(f"%s::{t}[]" for t in types)
        sql = f"INSERT INTO {into} SELECT * FROM unnest({arrays}) {tail}"
        self.parts.append((sql, _columns(rows)))

    def update(self, table: str, sets: str, match: str, types: tuple, rows: list) -> None:
        if not self.pg:
            statement = re.sub(r"\bt\.", "", f"UPDATE {table} SET {sets} WHERE {match}")
            order = [int(n) for n in _VALUE.findall(statement)]
            params = [[row[n] for n in order] for row in rows]
            self.cursor.executemany(_VALUE.sub("?", statement), params)
            return
        arrays = ", ".join(f"%s::{t}[]" for t in types)
        names = ", ".join(f"c{n}" for n in range(len(types)))
        sql = f"UPDATE {table} AS t SET {sets} FROM unnest({arrays}) AS u({names}) WHERE {match}"
        self.parts.append((sql, _columns(rows)))

    def flush(self) -> None:
        if not self.parts:
            return
        *first, (last, _) = self.parts
        head = ", ".join(f"w{n} AS ({sql})" for n, (sql, _) in enumerate(first))
        params = [p for _, ps in self.parts for p in ps]
        self.cursor.execute(f"WITH {head} {last}" if first else last, params)
        self.parts = []


_VALUE = re.compile(r"\bu\.c(\d+)\b")


def _columns(rows: list) -> list[list]:
    return [list(column) for column in zip(*rows, strict=True)]


def explain(conn: Connection, identity_id: int) -> dict | None:
    """A customer, what was folded into it, and every record bound to it with why."""
    row = conn.execute(select(identities).where(identities.c.id == identity_id)).first()
    if row is None:
        return None
    folded = (
        conn.execute(select(identities.c.id).where(identities.c.merged_into == identity_id))
        .scalars()
        .all()
    )
    records = conn.execute(
        select(identity_records)
        .where(identity_records.c.identity_id == identity_id)
        .order_by(identity_records.c.created_at)
    ).all()
    keys = conn.execute(
        select(identity_keys.c.key, identity_keys.c.source).where(
            identity_keys.c.identity_id == identity_id
        )
    ).all()
    golden: dict = {}  # derived: the name here, every key with the source that told it
    if row.display_name:
        golden["name"] = {"value": row.display_name, "source": row.name_source}
    for key, source in sorted(keys):
        golden.setdefault(FIELDS[key[0]], []).append({"value": key[2:], "source": source})
    for r in records:  # matched by the model: what each record says of the person
        for name, value in _said(r.person):
            told = golden.setdefault(name, [])
            if value not in [t["value"] for t in told]:
                told.append({"value": value, "source": r.source})
    return {
        "id": row.id,
        "merged_into": row.merged_into,
        "golden": golden,
        "keys": sorted(k for k, _ in keys),
        "folded_in": list(folded),
        "records": [
            {
                "source": r.source,
                "id": r.source_id,
                "why": json.loads(r.reason),
                **({"says": dict(_said(r.person))} if r.person else {}),
            }
            for r in records
        ],
    }


def _said(person_json: str | None) -> list[tuple[str, str]]:
    """A recorded person's non-empty fields, lists joined (``people.to_json``'s order)."""
    if not person_json:
        return []
    said = []
    for name, value in zip(PERSON_FIELDS, json.loads(person_json), strict=False):
        text = ", ".join(value) if isinstance(value, list) else value
        if text:
            said.append((name, text))
    return said


def records_of(conn: Connection, identity_id: int) -> list[tuple[str, str]]:
    """(source, id) of every record bound to a customer, oldest first."""
    return records_of_many(conn, [identity_id])[identity_id]


def records_of_many(conn: Connection, identity_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """``records_of`` for many customers in a few queries (every id gets a list)."""
    found: dict[int, list[tuple[str, str]]] = {i: [] for i in identity_ids}
    for start in range(0, len(identity_ids), 500):
        rows = conn.execute(
            select(
                identity_records.c.identity_id,
                identity_records.c.source,
                identity_records.c.source_id,
            )
            .where(identity_records.c.identity_id.in_(identity_ids[start : start + 500]))
            .order_by(identity_records.c.created_at)
        )
        for identity_id, source, source_id in rows:
            found[identity_id].append((source, source_id))
    return found


def count(conn: Connection) -> int:
    return conn.execute(
        select(func.count()).select_from(identities).where(identities.c.merged_into.is_(None))
    ).scalar_one()


def folded(conn: Connection) -> dict[int, int]:
    """Every customer folded into another -> that one (follow it to the end: ``final``)."""
    return dict(
        conn.execute(
            select(identities.c.id, identities.c.merged_into).where(
                identities.c.merged_into.is_not(None)
            )
        ).all()
    )


def final(identity: int, folded_into: dict[int, int]) -> int:
    """The customer ``identity`` is now, after every merge."""
    while identity in folded_into:
        identity = folded_into[identity]
    return identity
