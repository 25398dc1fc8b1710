"""Bindings: one business object's ids across systems, and what syncd last wrote.

Rows that share a ``link`` are the same object (a 1C Ref_Key, a CRM id, a POS
receipt id).  ``fingerprint`` is the digest of what syncd itself last wrote to
that system, so a source seeing the same data come back recognises its own
echo; ``version_seen`` is the version syncd's own last write produced there
(1C's ``DataVersion`` after the write), so that version coming back is an
echo too.  ``facts`` is what a flow chose to remember about the object — the
last state seen on each side and the state both were last brought to — kept
as JSON (deflated: ``syncd/store/facts_codec.py``) and written by planning
(``Plan.remember``).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Connection, bindparam, select, update

from syncd.store import facts_codec
from syncd.store.schema import bindings
from syncd.store.sql import chunks, insert_rows, one_of

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
    stored_facts: str | None = None  # as kept: JSON, or deflated (facts_codec)

    @cached_property
    def facts(self) -> dict | None:
        """What a flow remembers of the object (read when asked: most readers of a
        binding want its ids and fingerprint only)."""
        text = _text_of(self)
        return json.loads(text) if text else None


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
        row.facts,
    )


def get(conn: Connection, system: str, entity: str, external_id: str) -> Binding | None:
    ref = (system, entity, external_id)
    return get_many(conn, [ref]).get(ref)


# built once (planning reads bindings many times a second): no statement to build each time
_OF_REFS = select(bindings).where(
    bindings.c.system == bindparam("g_system"),
    bindings.c.entity == bindparam("g_entity"),
    one_of(bindings.c.external_id, "g_ids"),
)


def get_many(conn: Connection, refs: Iterable[Ref]) -> dict[Ref, Binding]:
    """Bindings of many refs; one indexed query per (system, entity) and 500 ids."""
    groups: dict[tuple[str, str], list[str]] = {}
    for system, entity, external_id in set(refs):
        groups.setdefault((system, entity), []).append(external_id)
    found: dict[Ref, Binding] = {}
    for (system, entity), ids in groups.items():
        for chunk in chunks(sorted(ids)):
            params = {"g_system": system, "g_entity": entity, "g_ids": chunk}
            for row in conn.execute(_OF_REFS, params):
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


@dataclass(frozen=True)
class Write:
    """syncd wrote data with ``fingerprint`` to ``ref``, because of ``origin``."""

    ref: Ref
    fingerprint: str
    origin: Ref | None = None
    remote_id: str | None = None
    version: str | None = None  # the version the write produced, when the target tells


def record_writes(
    conn: Connection, writes: list[Write], now: float | None = None
) -> dict[Ref, str]:
    """Remember what syncd wrote where, in a few statements for a whole batch.

    A write caused by ``origin`` (the same object in another system) puts both
    ids under one link.  A known row whose fingerprint, version and remote id
    already say what this write says is left as it is (on PostgreSQL every
    update leaves a dead row behind).  Returns each ref's link.
    """
    if not writes:
        return {}
    now = now or time.time()
    refs = {w.ref for w in writes} | {w.origin for w in writes if w.origin}
    known = get_many(conn, refs)
    links = {ref: b.link for ref, b in known.items()}
    new_origins, new_targets = [], []
    wanted: dict[Ref, dict] = {}  # a known row's columns as the batch's writes leave them
    for w in writes:
        if w.origin and w.origin not in links:
            links[w.origin] = links.get(w.ref) or uuid.uuid4().hex
            new_origins.append(_row(w.origin, links[w.origin], now))
        if w.ref in known:
            wanted[w.ref] = _after_write(wanted.get(w.ref) or _written(known[w.ref]), w)
            continue
        links[w.ref] = (links.get(w.origin) if w.origin else None) or uuid.uuid4().hex
        row = _row(w.ref, links[w.ref], now)
        row.update(fingerprint=w.fingerprint, written_at=now, remote_id=w.remote_id)
        new_targets.append(row)
    key = ["external_id", "system", "entity"]
    if new_origins:
        insert_rows(conn, bindings, new_origins, key)
    if new_targets:  # an upsert, in case the row appeared since we looked
        written = ["fingerprint", "written_at", "remote_id", "updated_at"]
        insert_rows(conn, bindings, new_targets, key, update=written)
        fresh = [(w.ref, w.version) for w in writes if w.version and w.ref not in known]
        _set_each(conn, fresh, "version_seen")
    changed = [(ref, cols) for ref, cols in wanted.items() if cols != _written(known[ref])]
    if changed:
        conn.execute(
            update(bindings)
            .where(_same_ref())
            .values(
                fingerprint=bindparam("b_fingerprint"),
                version_seen=bindparam("b_version_seen"),
                remote_id=bindparam("b_remote_id"),
                written_at=now,
                updated_at=now,
            ),
            [
                {"b_system": ref[0], "b_entity": ref[1], "b_external_id": ref[2]}
                | {f"b_{column}": value for column, value in cols.items()}
                for ref, cols in changed
            ],
        )
    return links


def _written(found: Binding) -> dict:
    """The columns a write sets, as a known row holds them."""
    return {
        "fingerprint": found.fingerprint,
        "version_seen": found.version_seen,
        "remote_id": found.remote_id,
    }


def _after_write(columns: dict, w: Write) -> dict:
    """A write always sets the fingerprint; the version and remote id only when it has them."""
    return {
        "fingerprint": w.fingerprint,
        "version_seen": w.version or columns["version_seen"],
        "remote_id": w.remote_id or columns["remote_id"],
    }


def _same_ref():  # noqa: ANN202 - an SQLAlchemy clause
    return (
        (bindings.c.system == bindparam("b_system"))
        & (bindings.c.entity == bindparam("b_entity"))
        & (bindings.c.external_id == bindparam("b_external_id"))
    )


def _set_each(conn: Connection, values: list[tuple[Ref, object]], column: str) -> None:
    """``column`` = value on each ref's row, in one statement."""
    if not values:
        return
    conn.execute(
        update(bindings).where(_same_ref()).values({column: bindparam("b_value")}),
        [
            {"b_system": ref[0], "b_entity": ref[1], "b_external_id": ref[2], "b_value": value}
            for ref, value in values
        ],
    )


def remember(conn: Connection, facts: dict[Ref, dict], now: float | None = None) -> None:
    """Store what flows remember about objects (a binding row is made where none is).

    A row whose facts already read the same is not written again, nor its
    ``updated_at`` moved: most events leave most facts as they were, and on
    PostgreSQL every update leaves a dead row behind.
    """
    if not facts:
        return
    now = now or time.time()
    texts = {ref: facts_text(value) for ref, value in facts.items()}
    known = get_many(conn, texts)
    changed = [ref for ref in texts if ref in known and _text_of(known[ref]) != texts[ref]]
    fresh = [
        _row(ref, uuid.uuid4().hex, now) | {"facts": _stored(texts[ref])}
        for ref in texts
        if ref not in known
    ]
    if fresh:
        key = ["external_id", "system", "entity"]
        written = insert_rows(
            conn, bindings, fresh, key, returning=["system", "entity", "external_id"]
        )
        made = {tuple(row) for row in written}
        # a row that appeared since we looked was not made here: its facts are set below
        changed += [ref for ref in texts if ref not in known and ref not in made]
    if changed:
        conn.execute(
            update(bindings).where(_same_ref()).values(facts=bindparam("b_value"), updated_at=now),
            [
                {
                    "b_system": r[0],
                    "b_entity": r[1],
                    "b_external_id": r[2],
                    "b_value": _stored(texts[r]),
                }
                for r in changed
            ],
        )


def facts_text(value: dict | None) -> str | None:
    """Facts as stored: JSON with sorted keys, so equal facts are equal text."""
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":"))


def _text_of(found: Binding) -> str | None:
    """The facts' JSON as stored (written by ``facts_text``: equal facts, equal text)."""
    return facts_codec.unpack(found.stored_facts) if found.stored_facts else None


def _stored(text: str | None) -> str | None:
    return facts_codec.pack(text) if text else text


def _row(ref: Ref, link: str, now: float) -> dict:
    system, entity, external_id = ref
    return {
        "link": link,
        "system": system,
        "entity": entity,
        "external_id": external_id,
        "updated_at": now,
    }


def record_write(
    conn: Connection,
    ref: Ref,
    fingerprint: str,
    *,
    origin: Ref | None = None,
    remote_id: str | None = None,
    now: float | None = None,
) -> str:
    """One write; see ``record_writes``. Returns the object's link."""
    return record_writes(conn, [Write(ref, fingerprint, origin, remote_id)], now)[ref]
