"""The identity tables: SQL kept in one place, batched for speed.

Lookups take a whole batch's keys at once (``IN`` lists of 500 on the
primary key); writes are ``executemany``.  Customer ids come from the
``identity_seq`` row, taken inside the caller's transaction.

    with store.begin() as conn:
        hits = lookup(conn, ["p:+79123456789"])     # {"p:+79…": 7}
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable

from sqlalchemy import Connection, bindparam, func, insert, select, update

from syncd.store.schema import identities, identity_keys, identity_records, identity_seq
from syncd.store.sql import insert_ignoring_duplicates

CHUNK = 500


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def lookup(conn: Connection, keys: Iterable[str]) -> dict[str, int]:
    wanted, found = sorted(set(keys)), {}
    for chunk in _chunks(wanted):
        rows = conn.execute(
            select(identity_keys.c.key, identity_keys.c.identity_id).where(
                identity_keys.c.key.in_(chunk)
            )
        )
        found.update({k: i for k, i in rows})
    return found


def bound(conn: Connection, refs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    by_source: dict[str, list[str]] = {}
    for source, source_id in set(refs):
        by_source.setdefault(source, []).append(source_id)
    found = {}
    for source, ids in by_source.items():
        for chunk in _chunks(sorted(ids)):
            rows = conn.execute(
                select(identity_records.c.source_id, identity_records.c.identity_id).where(
                    identity_records.c.source == source, identity_records.c.source_id.in_(chunk)
                )
            )
            found.update({(source, s): i for s, i in rows})
    return found


def customers(conn: Connection, ids: Iterable[int]) -> dict[int, tuple[str, dict]]:
    """id -> (normalised name, golden record)."""
    found = {}
    for chunk in _chunks(sorted(set(ids))):
        rows = conn.execute(
            select(identities.c.id, identities.c.name, identities.c.golden).where(
                identities.c.id.in_(chunk)
            )
        )
        found.update({i: (n, json.loads(g)) for i, n, g in rows})
    return found


def allocate(conn: Connection, n: int) -> int:
    """The first of ``n`` fresh customer ids (the row lock serialises writers)."""
    updated = conn.execute(
        update(identity_seq)
        .where(identity_seq.c.name == "identity")
        .values(next_id=identity_seq.c.next_id + n)
        .returning(identity_seq.c.next_id)
    ).scalar_one_or_none()
    if updated is None:
        conn.execute(insert(identity_seq).values(name="identity", next_id=1 + n))
        return 1
    return updated - n


def save(
    conn: Connection,
    new: dict[int, tuple[str, dict]],
    changed: dict[int, tuple[str, dict]],
    keys: dict[str, int],
    records: list[dict],
    merged: dict[int, int],
) -> None:
    """Write a resolved batch: new and changed customers, new keys, records, merges.

    A record dict carrying ``known: True`` was bound before and is updated.
    """
    now = time.time()
    if new:
        conn.execute(
            insert(identities),
            [
                {
                    "id": i,
                    "name": n[:255],
                    "golden": json.dumps(g, ensure_ascii=False),
                    "created_at": now,
                    "updated_at": now,
                }
                for i, (n, g) in new.items()
            ],
        )
    if changed:
        conn.execute(
            update(identities)
            .where(identities.c.id == bindparam("b_id"))
            .values(name=bindparam("b_name"), golden=bindparam("b_golden"), updated_at=now),
            [
                {"b_id": i, "b_name": n[:255], "b_golden": json.dumps(g, ensure_ascii=False)}
                for i, (n, g) in changed.items()
            ],
        )
    if keys:  # keys new to the index (known ones are moved by merges below)
        rows = [{"key": k, "identity_id": i} for k, i in keys.items()]
        conn.execute(insert_ignoring_duplicates(conn, identity_keys, ["key"]), rows)
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
    fresh = [r for r in records if not r.pop("known", False)]
    if fresh:
        conn.execute(
            insert_ignoring_duplicates(conn, identity_records, ["source_id", "source"]),
            [{**r, "created_at": now} for r in fresh],
        )
    moved = [r for r in records if r not in fresh]
    if moved:  # a record seen before, now bound elsewhere (after a merge) or explained anew
        conn.execute(
            update(identity_records)
            .where(
                identity_records.c.source == bindparam("b_source"),
                identity_records.c.source_id == bindparam("b_source_id"),
            )
            .values(identity_id=bindparam("b_id"), reason=bindparam("b_reason")),
            [
                {
                    "b_source": r["source"],
                    "b_source_id": r["source_id"],
                    "b_id": r["identity_id"],
                    "b_reason": r["reason"],
                }
                for r in moved
            ],
        )


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
    keys = (
        conn.execute(select(identity_keys.c.key).where(identity_keys.c.identity_id == identity_id))
        .scalars()
        .all()
    )
    return {
        "id": row.id,
        "merged_into": row.merged_into,
        "golden": json.loads(row.golden),
        "keys": sorted(keys),
        "folded_in": list(folded),
        "records": [
            {"source": r.source, "id": r.source_id, "why": json.loads(r.reason)} for r in records
        ],
    }


def count(conn: Connection) -> int:
    return conn.execute(
        select(func.count()).select_from(identities).where(identities.c.merged_into.is_(None))
    ).scalar_one()
