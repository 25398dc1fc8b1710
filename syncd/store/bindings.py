"""Bindings: one business object's ids across systems, and what syncd last wrote.

Rows that share a ``link`` are the same object (a 1C Ref_Key, a CRM id, a POS
receipt id).  ``fingerprint`` is the digest of what syncd itself last wrote to
that system, so a source seeing the same data come back recognises its own
echo; ``version_seen`` is the newest version of the object syncd has seen
there.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select, tuple_, update

from syncd.store.schema import bindings
from syncd.store.sql import insert_ignoring_duplicates

Ref = tuple[str, str, str]  # (system, entity, external_id)


@dataclass(frozen=True)
class Binding:
    link: str
    system: str
    entity: str
    external_id: str
    fingerprint: str | None
    remote_id: str | None
    version_seen: str | None
    written_at: float | None


def _binding(row) -> Binding:  # noqa: ANN001
    return Binding(
        row.link,
        row.system,
        row.entity,
        row.external_id,
        row.fingerprint,
        row.remote_id,
        row.version_seen,
        row.written_at,
    )


def get(conn: Connection, system: str, entity: str, external_id: str) -> Binding | None:
    row = conn.execute(
        select(bindings).where(
            bindings.c.system == system,
            bindings.c.entity == entity,
            bindings.c.external_id == external_id,
        )
    ).first()
    return _binding(row) if row else None


def get_many(conn: Connection, refs: Iterable[Ref]) -> dict[Ref, Binding]:
    wanted = sorted(set(refs))
    found: dict[Ref, Binding] = {}
    for i in range(0, len(wanted), 300):
        chunk = wanted[i : i + 300]
        rows = conn.execute(
            select(bindings).where(
                tuple_(bindings.c.system, bindings.c.entity, bindings.c.external_id).in_(chunk)
            )
        )
        for row in rows:
            b = _binding(row)
            found[(b.system, b.entity, b.external_id)] = b
    return found


def linked(conn: Connection, link: str) -> list[Binding]:
    """Every system's id of the object ``link`` names."""
    return [_binding(r) for r in conn.execute(select(bindings).where(bindings.c.link == link))]


def counterpart(conn: Connection, ref: Ref, system: str) -> Binding | None:
    """The id in ``system`` of the object known as ``ref``."""
    own = get(conn, *ref)
    if own is None:
        return None
    return next((b for b in linked(conn, own.link) if b.system == system), None)


def ensure(conn: Connection, ref: Ref, link: str | None = None, now: float | None = None) -> str:
    """Make sure ``ref`` has a binding row; returns its link (new or existing)."""
    system, entity, external_id = ref
    stmt = insert_ignoring_duplicates(conn, bindings, ["system", "entity", "external_id"])
    conn.execute(
        stmt,
        {
            "link": link or uuid.uuid4().hex,
            "system": system,
            "entity": entity,
            "external_id": external_id,
            "updated_at": now or time.time(),
        },
    )
    return get(conn, *ref).link  # type: ignore[union-attr]


def record_write(
    conn: Connection,
    ref: Ref,
    fingerprint: str,
    *,
    origin: Ref | None = None,
    remote_id: str | None = None,
    now: float | None = None,
) -> str:
    """Remember that syncd wrote data with ``fingerprint`` to ``ref``.

    When the write was caused by ``origin`` (the same object in another
    system), both ids end up under one link.
    """
    now = now or time.time()
    link = None
    if origin is not None and origin[0]:
        link = ensure(conn, origin, now=now)
    link = ensure(conn, ref, link=link, now=now)
    conn.execute(
        update(bindings)
        .where(
            bindings.c.system == ref[0],
            bindings.c.entity == ref[1],
            bindings.c.external_id == ref[2],
        )
        .values(
            fingerprint=fingerprint,
            written_at=now,
            updated_at=now,
            **({"remote_id": remote_id} if remote_id else {}),
        )
    )
    return link


def record_seen(conn: Connection, ref: Ref, version: str, now: float | None = None) -> None:
    ensure(conn, ref, now=now)
    conn.execute(
        update(bindings)
        .where(
            bindings.c.system == ref[0],
            bindings.c.entity == ref[1],
            bindings.c.external_id == ref[2],
        )
        .values(version_seen=version, updated_at=now or time.time())
    )
