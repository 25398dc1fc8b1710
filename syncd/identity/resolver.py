"""Matching records to customers, incrementally, a batch at a time.

For a batch: every key and record id is looked up in one pass, then records
are decided one after another against the known customers *and* the ones
this batch has just made (so two receipts of a new person in one batch make
one customer), and everything is written with a few statements.  Resolving
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
        names = {i: n for i, (n, _) in known.items()}
        golden = {i: g for i, (_, g) in known.items()}
        fresh = [r for r, ks in keyed if ks and (r.source, r.source_id) not in bound]
        next_id = index.allocate(conn, len(fresh)) if fresh else 0
        new_ids: set[int] = set()
        new_keys: dict[str, int] = {}
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
            if created:
                next_id += 1
                new_ids.add(identity)
                golden[identity] = {}
            for loser in decision.merge:
                merged[loser] = identity
                golden[identity] = _fold(golden[identity], golden.pop(loser, {}))
                names.pop(loser, None)
                for key, owner in list(hits.items()):
                    if owner == loser:
                        hits[key] = identity
            golden[identity] = _add(golden[identity], record, keys)
            if golden[identity].get("name", {}).get("source") == record.source:
                names[identity] = own_name  # the record's name became the customer's
            for key in keys:
                if key not in hits:
                    hits[key] = new_keys[key] = identity
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
        live = {i: (names.get(i, ""), g) for i, g in golden.items() if i not in merged}
        index.save(
            conn,
            new={i: v for i, v in live.items() if i in new_ids},
            changed={i: v for i, v in live.items() if i not in new_ids},
            keys=new_keys,
            records=rows,
            merged=merged,
        )
        return out


FIELDS = {"p": "phones", "e": "emails", "c": "cards"}


def _add(golden: dict, record: Record, keys: list[str]) -> dict:
    """The record's fields (its normalised keys) joined to the customer's, with sources."""
    golden = dict(golden)
    source = record.source
    if record.name and len(record.name.split()) >= len(
        str(golden.get("name", {}).get("value", "")).split()
    ):
        golden["name"] = {"value": record.name.strip(), "source": source}
    for key in keys:
        field_name = FIELDS[key[0]]
        have = golden.get(field_name)
        value = key[2:]
        if have is None:
            golden[field_name] = [{"value": value, "source": source}]
        elif all(entry["value"] != value for entry in have):
            golden[field_name] = [*have, {"value": value, "source": source}]
    return golden


@lru_cache(maxsize=1024)  # most reasons repeat ("new: …", "same phone …" differ by value)
def _reason_json(reason: tuple[str, ...]) -> str:
    return json.dumps(list(reason), ensure_ascii=False)


def _fold(into: dict, other: dict) -> dict:
    result = dict(into)
    if not result.get("name") and other.get("name"):
        result["name"] = other["name"]
    for field_name in ("phones", "emails", "cards"):
        have = list(result.get(field_name, []))
        known = {e["value"] for e in have}
        have += [e for e in other.get(field_name, []) if e["value"] not in known]
        if have:
            result[field_name] = have
    return result
