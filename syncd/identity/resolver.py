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

import gc
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import Connection

from syncd.identity import index
from syncd.identity.keys import Record, keys_of, name
from syncd.identity.match import KIND, NEW, decide


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
        with _collector_paused():
            return self._resolve(conn, records)

    def _resolve(self, conn: Connection, records: list[Record]) -> list[Assignment]:
        region = self.region
        keyed = [(r, keys_of(r, region)) for r in records]
        hits, bound = index.look(
            conn, [k for _, ks in keyed for k in ks], [(r.source, r.source_id) for r in records]
        )
        names: dict[int, str] = {}  # normalised, for scoring
        shown: dict[int, str] = {}  # as written

        def load(ids: set[int]) -> None:
            """Names of known customers, read only when a decision needs them."""
            missing = [i for i in ids if i not in shown]
            if missing:
                known = index.customers(conn, missing)
                for i in missing:
                    names[i], shown[i] = known.get(i, ("", ""))

        # one read up front for the records that will need names (a block of several
        # customers, or a name to compare); a nameless receipt of one customer needs none
        wanted: set[int] = set()
        for record, keys in keyed:
            owners = {hits[k] for k in keys if k in hits}
            if (ref := bound.get((record.source, record.source_id))) is not None:
                owners.add(ref)
            if len(owners) > 1 or (owners and record.name.strip()):
                wanted |= owners
        load(wanted)
        fresh = [r for r, ks in keyed if ks and (r.source, r.source_id) not in bound]
        next_id = None  # ids are taken at the first new customer: none for known ones
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
            block = [key for key in keys if key in hits]
            changes = len(block) < len(keys)  # a key new to the customer (or a new customer)
            if was is None and not block:
                identity, created, reason = 0, True, NEW  # no block: somebody new
            elif was is None and len({hits[key] for key in block}) == 1:
                # one customer has every key that is known: decide() would say the same
                identity, created = hits[block[0]], False
                reason = tuple(f"same {KIND[key[0]]} {key[2:]}" for key in block)
            else:
                owners = {hits[k] for k in keys if k in hits} | ({was} - {None})
                if len(owners) > 1:  # names decide whether several customers are one
                    load(owners)
                decision = decide(keys, own_name, hits, names, was, self.same_name)
                created, reason = decision.identity is None, tuple(decision.reason)
                identity = 0 if created else decision.identity
                for loser in decision.merge:
                    self._fold(loser, identity, merged, names, shown, new, renamed, hits)
                changes = changes or bool(decision.merge)
            written = record.name.strip()
            if created:
                if next_id is None:
                    next_id = index.allocate(conn, len(fresh))
                identity, next_id = next_id, next_id + 1
                new[identity] = (own_name, written, record.source if written else "")
                names[identity], shown[identity] = own_name, written
            elif written and self._fuller(written, identity, load, shown):
                # a fuller name than the customer had (e.g. a partner after a receipt)
                changes = True
                names[identity], shown[identity] = own_name, written
                (new if identity in new else renamed)[identity] = (own_name, written, record.source)
            for key in keys:
                if key not in hits:
                    hits[key] = identity
                    new_keys[key] = (identity, record.source)
            bound[ref] = identity
            keep = was is None and (changes or not record.receipt)
            if keep or (was is not None and was != identity):  # new, or bound elsewhere now
                row = (record.source_id, record.source, identity, _reason_json(reason), not keep)
                rows.append(row)
            out.append(Assignment(record, identity, created, list(reason)))
        index.save(
            conn,
            new={i: v for i, v in new.items() if i not in merged},
            renamed={i: v for i, v in renamed.items() if i not in merged},
            keys=new_keys,
            records=rows,
            merged=merged,
        )
        return out

    @staticmethod
    def _fuller(written: str, identity: int, load, shown: dict[int, str]) -> bool:  # noqa: ANN001
        load({identity})
        return len(written.split()) > len(shown.get(identity, "").split())

    @staticmethod
    def _fold(loser, identity, merged, names, shown, new, renamed, hits) -> None:  # noqa: ANN001
        """Customer ``loser`` is folded into ``identity``: its name (if better) and keys move."""
        merged[loser] = identity
        if not shown.get(identity) and shown.get(loser):
            names[identity], shown[identity] = names[loser], shown[loser]
            (new if identity in new else renamed)[identity] = (names[loser], shown[loser], "merged")
        names.pop(loser, None)
        for key, owner in list(hits.items()):
            if owner == loser:
                hits[key] = identity


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a batch is resolved.

    A batch makes many short-lived tuples and no reference cycles; the
    collector's passes over every object in the process cost about a tenth
    of the time.  Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@lru_cache(maxsize=1024)  # "new: …" repeats; "same phone …" differs by value
def _reason_json(reason: tuple[str, ...]) -> str:
    if not any(_NEEDS_ESCAPING.search(part) for part in reason):
        return '["' + '", "'.join(reason) + '"]'  # what json.dumps gives, without its machinery
    return json.dumps(list(reason), ensure_ascii=False)


_NEEDS_ESCAPING = re.compile(r'["\\\x00-\x1f]')
