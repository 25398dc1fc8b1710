"""Matching records to customers, incrementally, a batch at a time.

For a batch: every key and record id is looked up in one pass, then records
are decided one after another against the known customers *and* the ones
this batch has just made (so two receipts of a new person in one batch make
one customer), and everything is written with a few statements.  The
customer's golden record is not rewritten per record: it is the fullest name
seen (with its source) and every key with the source that brought it.  Resolving
the same record again gives the same customer (records are bound), so a
replay or a crash in the middle is harmless.

    with store.begin() as conn:
        [a] = Resolver().resolve(conn, [Record("pos:msk", "r-1", phones=["89123456789"])])
        a.identity, a.reason
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import Connection

from syncd.identity import index
from syncd.identity.keys import Record, keys_of, name
from syncd.identity.match import decide


@dataclass
class Assignment:
    record: Record
    identity: int | None  # None: nothing identifies the person (an anonymous receipt)
    created: bool = False
    reason: list[str] = field(default_factory=list)


class Resolver:
    def __init__(self, region: str = "RU", same_name: float = 90.0) -> None:
        self.region, self.same_name = region, same_name

    def resolve(self, conn: Connection, records: list[Record]) -> list[Assignment]:
        keyed = [(r, keys_of(r, self.region)) for r in records]
        hits = index.lookup(conn, [k for _, ks in keyed for k in ks])
        bound = index.bound(conn, [(r.source, r.source_id) for r in records])
        known = index.customers(conn, set(hits.values()) | set(bound.values()))
        names = {i: n for i, (n, _) in known.items()}  # normalised, for scoring
        shown = {i: d for i, (_, d) in known.items()}  # as written
        fresh = [r for r, ks in keyed if ks and (r.source, r.source_id) not in bound]
        next_id = index.allocate(conn, len(fresh)) if fresh else 0
        new: dict[int, tuple[str, str, str]] = {}
        renamed: dict[int, tuple[str, str, str]] = {}
        new_keys: dict[str, tuple[int, str]] = {}
        merged: dict[int, int] = {}
        rows, out = [], []
        for record, keys in keyed:
            ref = (record.source, record.source_id)
            was = bound.get(ref)
            if was is not None:
                was = merged.get(was, was)
            if not keys and was is None:
                out.append(Assignment(record, None, reason=["no card, phone or e-mail"]))
                continue
            own_name = name(record.name)
            decision = decide(keys, own_name, hits, names, was, self.same_name)
            created = decision.identity is None
            identity = next_id if created else decision.identity
            written = record.name.strip()
            if created:
                next_id += 1
                new[identity] = (own_name, written, record.source if written else "")
                names[identity], shown[identity] = own_name, written
            elif written and len(written.split()) > len(shown.get(identity, "").split()):
                # a fuller name than the customer had (e.g. a partner after a receipt)
                names[identity], shown[identity] = own_name, written
                (new if identity in new else renamed)[identity] = (own_name, written, record.source)
            for loser in decision.merge:
                merged[loser] = identity
                if not shown.get(identity) and shown.get(loser):
                    names[identity], shown[identity] = names[loser], shown[loser]
                    (new if identity in new else renamed)[identity] = (
                        names[loser],
                        shown[loser],
                        "merged",
                    )
                names.pop(loser, None)
                for key, owner in list(hits.items()):
                    if owner == loser:
                        hits[key] = identity
            for key in keys:
                if key not in hits:
                    hits[key] = identity
                    new_keys[key] = (identity, record.source)
            bound[ref] = identity
            rows.append(
                {
                    "source": record.source,
                    "source_id": record.source_id,
                    "identity_id": identity,
                    "reason": _reason_json(tuple(decision.reason)),
                    "known": was is not None,
                }
            )
            out.append(Assignment(record, identity, created, decision.reason))
        index.save(
            conn,
            new={i: v for i, v in new.items() if i not in merged},
            renamed={i: v for i, v in renamed.items() if i not in merged},
            keys=new_keys,
            records=rows,
            merged=merged,
        )
        return out


@lru_cache(maxsize=1024)  # most reasons repeat ("new: …", "same phone …" differ by value)
def _reason_json(reason: tuple[str, ...]) -> str:
    return json.dumps(list(reason), ensure_ascii=False)
