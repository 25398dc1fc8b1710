"""Undoing a wrong merge: some of a customer's records become a customer of their own.

An operator who sees two people in one customer (``syncd customers explain``)
names the records that are the other person; they move to a new customer, the
blocking keys follow the records that bring them, and the two customers are
kept apart: no later record merges them again.  Orders and purchases already
written to the CRM stay where they are; what arrives from now on goes to the
customer its record is bound to.

    with store.begin() as conn:
        new_id = split(conn, 17, [("pos:msk", "r-1")])
"""

from __future__ import annotations

import time

from sqlalchemy import Connection, select, update

from syncd.errors import SyncdError
from syncd.identity import index, model_index
from syncd.identity.linker import Prepared, blocking_keys
from syncd.identity.model_resolver import written_name
from syncd.identity.people import from_json
from syncd.store.schema import identities, identity_records


class SplitRefused(SyncdError, ValueError):
    pass


def split(conn: Connection, identity: int, records: list[tuple[str, str]]) -> int:
    """Move ``records`` (source, id) of customer ``identity`` to a new customer; its id."""
    row = conn.execute(select(identities).where(identities.c.id == identity)).first()
    if row is None:
        raise SplitRefused(f"no customer {identity}")
    if row.merged_into:
        raise SplitRefused(f"customer {identity} was folded into {row.merged_into}: split that one")
    own = {
        (r.source, r.source_id): r.person
        for r in conn.execute(
            select(identity_records).where(identity_records.c.identity_id == identity)
        )
    }
    wanted = list(dict.fromkeys(records))
    if missing := [f"{s}:{i}" for s, i in wanted if (s, i) not in own]:
        raise SplitRefused(f"not records of customer {identity}: {', '.join(missing)}")
    if len(wanted) == len(own):
        raise SplitRefused(f"that is every record of customer {identity}: nothing to split from")
    if any(own[ref] is None for ref in wanted):
        raise SplitRefused("records matched by keys only (matching.method: keys) cannot be split")

    def keys_of(refs) -> set[str]:  # noqa: ANN001
        return {
            k for ref in refs if own[ref] for k in blocking_keys(Prepared.of(from_json(own[ref])))
        }

    moving = keys_of(wanted)
    staying = keys_of([ref for ref in own if ref not in wanted])
    new_id = index.allocate(conn, 1)
    first = Prepared.of(from_json(own[wanted[0]]))
    now = time.time()
    conn.execute(
        identities.insert().values(
            id=new_id, name="", display_name=written_name(first)[:255], name_source="split",
            created_at=now, updated_at=now,
        )
    )  # fmt: skip
    for source, source_id in wanted:
        conn.execute(
            update(identity_records)
            .where(identity_records.c.source == source, identity_records.c.source_id == source_id)
            .values(identity_id=new_id)
        )
    holders = model_index.Holders(model_index.owners(conn, moving))
    for key in moving - staying:
        holders.let_go(key, identity)
    for key in moving:
        holders.hold(key, new_id)
    model_index.save(conn, {}, [], [], holders.added, holders.dropped, {})
    model_index.keep_apart(conn, identity, new_id)
    return new_id
