"""The model's tables, SQL in one place: blocks, the people of customers, apart pairs.

A batch is matched with three reads — who holds each of its blocking keys
(``owners``), what the records of those customers say (``people``), and which
of them an operator split apart (``apart``) — and its writes are sent together
(``save``).  A key is held by at most ``BLOCK_LIMIT`` customers, then marked
full with customer 0: a key that many people share says nothing of who is who,
and it stops growing.

    with store.begin() as conn:
        owners(conn, ["c:0012345678", "gd:anna|ivanova|1985-03-07"])
        # {"c:0012345678": [7], "gd:anna|…": [7, 12]}
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import Connection

from syncd.identity.comparisons import Person
from syncd.identity.index import Writes, chunks, cursor_of
from syncd.identity.linker import BLOCK_LIMIT
from syncd.identity.people import from_json

FULL = 0  # the customer id that marks a key held by too many to be evidence


class Holders:
    """Who holds each key, as a write changes it, and the rows that change: keys to
    hold (``added``) and to let go (``dropped``).  A key that would get more than
    ``BLOCK_LIMIT`` holders gets ``FULL`` instead, and no holder after it.

        holders = Holders(owners(conn, keys))
        holders.let_go("c:0012345678", 7); holders.hold("c:0012345678", 9)
        save(conn, {}, [], [], holders.added, holders.dropped, {})
    """

    def __init__(self, stored: dict[str, list[int]]) -> None:
        self.owners = {key: set(ids) for key, ids in stored.items()}
        self.added: list[tuple[str, int]] = []
        self.dropped: list[tuple[str, int]] = []

    def hold(self, key: str, identity: int) -> None:
        owners = self.owners.setdefault(key, set())
        if identity in owners or FULL in owners:
            return
        holder = FULL if len(owners) >= BLOCK_LIMIT else identity
        owners.add(holder)
        self.added.append((key, holder))

    def let_go(self, key: str, identity: int) -> None:
        if identity in self.owners.get(key, ()):
            self.owners[key].discard(identity)
            self.dropped.append((key, identity))


def _in(conn: Connection, sql: str, values: list, extra: tuple = ()) -> list[tuple]:
    """``sql`` with ``{in}`` for "= ANY(array)" (PostgreSQL) or an IN list (SQLite)."""
    cursor, ph = cursor_of(conn)
    if conn.dialect.name != "sqlite":
        cursor.execute(sql.format(field_in="= ANY(%s)"), [*extra, values])
        return cursor.fetchall()
    rows: list[tuple] = []
    for chunk in chunks(values):
        cursor.execute(sql.format(field_in=f"IN ({','.join([ph] * len(chunk))})"), [*extra, *chunk])
        rows.extend(cursor.fetchall())
    return rows


def owners(conn: Connection, keys: Iterable[str]) -> dict[str, list[int]]:
    """key -> the customers holding it (``FULL`` among them: a full key)."""
    found: dict[str, list[int]] = {}
    wanted = sorted(set(keys))
    for key, identity in _in(
        conn, "SELECT key, identity_id FROM identity_blocks WHERE key {field_in}", wanted
    ):
        found.setdefault(key, []).append(identity)
    return found


def people(conn: Connection, ids: Iterable[int]) -> dict[int, list[tuple[str, str, Person]]]:
    """customer -> (source, source id, person) of each record that describes someone."""
    found: dict[int, list[tuple[str, str, Person]]] = {}
    wanted = sorted(set(ids) - {FULL})
    sql = (
        "SELECT identity_id, source, source_id, person FROM identity_records "
        "WHERE person IS NOT NULL AND identity_id {field_in}"
    )
    for identity, source, source_id, person in _in(conn, sql, wanted):
        found.setdefault(identity, []).append((source, source_id, from_json(person)))
    return found


def apart(conn: Connection, ids: Iterable[int]) -> set[tuple[int, int]]:
    """Pairs of these customers an operator split: both orders of each pair."""
    wanted = sorted(set(ids))
    rows = _in(
        conn,
        "SELECT identity_id, other_id FROM identity_apart WHERE identity_id {field_in}",
        wanted,
    )
    return {(a, b) for a, b in rows} | {(b, a) for a, b in rows}


def keep_apart(conn: Connection, a: int, b: int) -> None:
    cursor, ph = cursor_of(conn)
    for x, y in ((a, b), (b, a)):
        cursor.execute(
            f"INSERT INTO identity_apart (identity_id, other_id, created_at) "
            f"VALUES ({ph}, {ph}, {ph}) ON CONFLICT DO NOTHING",
            [x, y, time.time()],
        )


def save(
    conn: Connection,
    new: dict[int, tuple[str, str]],
    records: list[tuple[str, str, int, str, str]],
    moved_records: list[tuple[int, str, str, str]],
    blocks: list[tuple[str, int]],
    dropped_blocks: list[tuple[str, int]],
    merged: dict[int, int],
) -> None:
    """Write a matched batch.

    ``new``: customer -> (name as written, its source); ``records``: (source id,
    source, customer, reason JSON, person JSON) of records bound now;
    ``moved_records``: (customer, person JSON, source, source id) of records bound
    before, as they read now; ``blocks`` to hold and ``dropped_blocks`` to let go
    (a merged customer's); ``merged``: loser -> winner.
    """
    now = time.time()
    cursor, _ = cursor_of(conn)
    pg = conn.dialect.name != "sqlite"
    writes = Writes(cursor, pg)
    if new:
        writes.insert(
            "identities (id, name, display_name, name_source, created_at, updated_at)",
            ("bigint", "text", "text", "text", "float8", "float8"),
            [
                (i, " ".join(sorted(d.lower().split()))[:255], d[:255], src[:100], now, now)
                for i, (d, src) in new.items()
            ],  # fmt: skip
        )
    if records:
        writes.insert(
            "identity_records (source_id, source, identity_id, reason, person, created_at)",
            ("text", "text", "bigint", "text", "text", "float8"),
            [(*r, now) for r in records],
            "ON CONFLICT (source_id, source) DO NOTHING",
        )
    writes.flush()  # merges below move what was just written
    for loser, winner in merged.items():
        for sql in (
            "UPDATE identity_records SET identity_id = {ph} WHERE identity_id = {ph}",
            "UPDATE identities SET merged_into = {ph} WHERE id = {ph}",
        ):
            cursor.execute(sql.format(ph="?" if not pg else "%s"), [winner, loser])
    if moved_records:
        writes.update(
            "identity_records",
            "identity_id = u.c0, person = u.c1",
            "t.source = u.c2 AND t.source_id = u.c3",
            ("bigint", "text", "text", "text"),
            moved_records,
        )
    if dropped_blocks:
        writes.flush()
        ph = "?" if not pg else "%s"
        cursor.executemany(
            f"DELETE FROM identity_blocks WHERE key = {ph} AND identity_id = {ph}", dropped_blocks
        )
    if blocks:
        writes.insert(
            "identity_blocks (key, identity_id)",
            ("text", "bigint"),
            sorted(set(blocks)),
            "ON CONFLICT DO NOTHING",
        )
    writes.flush()
