"""Matching records to customers by the model (customers.yaml ``matching.method: model``).

The same contract as ``Resolver`` — a batch of records in, an ``Assignment``
each out, incrementally against everything the store knows — decided the
Fellegi–Sunter way (``linker``): a record's candidates are the customers that
share one of its blocking keys (an identifier, one a keystroke off, name +
birth date, surname + street + house, ...); it joins the one whose records
most likely describe the same person, above ``threshold``, unless a veto
holds; a record likely to be two customers at once merges them when their
own records agree (never two an operator split).  Each bound record keeps
why: the probability and each field's weight (``syncd customers explain``).

A batch first reads which of its records were bound before: one that says what
it said then is answered from that read, so a replay changes nothing.  The rest
read three times (owners of their keys, their candidates' people, pairs kept
apart) and write once.

    with store.begin() as conn:
        [a] = ModelResolver().resolve(conn, [Record("pos:msk", "r-1", cards=["0012345678"])])
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import Connection, select

from syncd.identity import index, model_index, model_store
from syncd.identity.fellegi_sunter import Model
from syncd.identity.keys import Record
from syncd.identity.linker import (
    BLOCK_LIMIT,
    Linker,
    Prepared,
    blocking_keys,
    exact_keys,
    identifiers_only,
)
from syncd.identity.people import has_identity, person_of, to_json
from syncd.identity.resolver import Assignment, _collector_paused
from syncd.store.schema import identity_model

FULL = model_index.FULL


class _BatchLinker(Linker):
    """The in-memory linker over one batch's slice of the store, noting what it moves."""

    def __init__(self, model: Model, threshold: float, tf: dict, apart: set) -> None:
        super().__init__(model, threshold, tf)
        self.apart_pairs = apart
        self.moves: list[tuple[int, int, list[str]]] = []  # (loser, winner, its keys)
        self._alone: dict[tuple, list[str] | None] = {}  # ``held_alone``'s why, by field

    def _apart(self, a: int, b: int) -> bool:
        return (a, b) not in self.apart_pairs and super()._apart(a, b)

    def _merge(self, other: int, into: int) -> None:
        keys = sorted({k for p in self.people.get(other, ()) for k in blocking_keys(p)})
        self.moves.append((other, into, keys))
        super()._merge(other, into)

    def held_alone(self, p: Prepared, holder: int) -> tuple[int, list[str]] | None:
        """The customer a receipt with one identifier joins, decided without its records.

        Its one card, phone or e-mail is held by ``holder`` alone, so some record of the
        holder says exactly that, and the receipt says nothing else: compared with any of
        them the levels are those of the receipt with itself (that field equal, the rest
        missing), no rule or veto has anything to hold against it, and nobody else is a
        candidate (its key has one holder).  ``add`` over the holder's records answers the
        same (a test holds the two paths equal).  None below the threshold: ``add`` then
        makes the new customer.  The customer and why, as ``explain`` says it."""
        field = tuple(f for f in ("cards", "phones", "emails") if getattr(p.person, f))
        if field not in self._alone:
            self.chosen = self._scored(p, p)
            likely = self.model.probability(self.chosen[0]) >= self.threshold
            self._alone[field] = self.explain() if likely else None
        why = self._alone[field]
        if why is None:
            return None
        self.people.setdefault(holder, []).append(p)
        return holder, why

    def explain(self) -> list[str]:
        """Why the last ``add``'s record joined whom it chose: the probability and each
        field's weight against the known record that weighed most."""
        if self.chosen is None:
            return []
        weight, levels = self.chosen
        weights = self.model.weights(levels)
        parts = [f"{f} {w:+.1f}" for f, w in sorted(weights.items(), key=lambda x: -abs(x[1])) if w]
        return [f"match {self.model.probability(weight):.6f} ({weight:.1f} bits)", *parts]


class ModelResolver:
    def __init__(
        self,
        region: str = "RU",
        threshold: float = 0.99,
        prior: float = 0.01,
        distinct_sources: frozenset[str] = frozenset(),
    ) -> None:
        self.region, self.threshold, self.prior = region, threshold, prior
        # sources whose records are each another person (a deduplicated base loaded with
        # ``customers import --distinct``): a customer holds one record of each at most
        self.distinct_sources = distinct_sources
        self._model: tuple[float | None, Model, dict] | None = None
        # False: every receipt compared with its candidates' records (``held_alone`` off;
        # the tests hold the two equal)
        self.decide_alone = True

    def model(self, conn: Connection) -> tuple[Model, dict]:
        """The store's model (re-read when ``syncd customers train`` replaced it)."""
        trained_at = conn.execute(
            select(identity_model.c.trained_at).where(identity_model.c.name == model_store.NAME)
        ).scalar()
        if self._model is None or self._model[0] != trained_at:
            model, tf, _ = model_store.load(conn)
            self._model = (trained_at, Model(model.fields, self.prior), tf)
        return self._model[1], self._model[2]

    def resolve(self, conn: Connection, records: list[Record]) -> list[Assignment]:
        with _collector_paused():
            return self._resolve(conn, records)

    def _resolve(self, conn: Connection, records: list[Record]) -> list[Assignment]:
        """A record bound before that says what it said then is answered from the store
        (a replay, a second import: one read); the others are matched."""
        prepared = [Prepared.of(person_of(r, self.region)) for r in records]
        refs = [(r.source, r.source_id) for r in records]
        before = index.bound_people(conn, refs)
        out: list[Assignment | None] = [None] * len(records)
        rest = []
        for at, (record, ref, p) in enumerate(zip(records, refs, prepared, strict=True)):
            was = before.get(ref)
            if was is not None and was[1] == to_json(p.person):
                out[at] = Assignment(record, was[0], reason=["seen before"])
            else:
                rest.append(at)
        if rest:
            bound = {refs[at]: before[refs[at]][0] for at in rest if refs[at] in before}
            matched = self._match(
                conn, [records[at] for at in rest], [prepared[at] for at in rest], bound
            )
            for at, assignment in zip(rest, matched, strict=True):
                out[at] = assignment
        return out  # type: ignore[return-value] - every one set above

    def _match(
        self, conn: Connection, records: list[Record], prepared: list[Prepared], bound: dict
    ) -> list[Assignment]:
        model, tf = self.model(conn)
        keyed, stored, sole = _keys_and_owners(conn, records, prepared, bound)
        # a receipt with one identifier that one known customer holds is decided by that
        # identifier's weight alone (``held_alone``): its customer's records are not read
        alone = {
            at: holder for at, holder in sole.items()
            if self.decide_alone and len(keyed[at]) == 1
            and records[at].source not in self.distinct_sources
        }  # fmt: skip
        wanted = set(bound.values())
        for at, keys in enumerate(keyed):
            if at in alone:
                continue
            for key in keys:
                owners = stored.get(key, ())
                if FULL not in owners and len(owners) <= BLOCK_LIMIT:
                    wanted.update(owners)
        known = model_index.people(conn, wanted)
        linker = _BatchLinker(model, self.threshold, tf, model_index.apart(conn, wanted))
        # a full key finds nobody, however many holders a merge has since let go
        linker.blocks = {k: list(v) if FULL not in v else [FULL] * (BLOCK_LIMIT + 1)
                         for k, v in stored.items()}  # fmt: skip
        linker.people = {i: [Prepared.of(p) for _, _, p in rows] for i, rows in known.items()}
        for identity in wanted:
            linker.people.setdefault(identity, [])
        if self.distinct_sources:
            linker.one_per_group = True
            for identity, rows in known.items():
                for source, _, _ in rows:
                    if source in self.distinct_sources:
                        linker.groups.setdefault(identity, set()).add(source)
        fresh = sum(1 for r in records if (r.source, r.source_id) not in bound)
        first_new = linker.next_id = index.allocate(conn, fresh) if fresh else 0
        out: list[tuple[Assignment, Prepared, list[str], bool]] = []
        for at, (record, p, keys) in enumerate(zip(records, prepared, keyed, strict=True)):
            was = bound.get((record.source, record.source_id))
            if was is not None:  # seen before: the same customer (a replay changes nothing)
                identity = linker.final(was)
                brings = [k for k in keys if identity not in linker.blocks.get(k, ())]
                linker.people.setdefault(identity, []).append(p)
                self._hold(linker, keys, identity)
                out.append(
                    (Assignment(record, identity, reason=["seen before"]), p, keys, bool(brings))
                )
                continue
            if not has_identity(p.person):
                out.append(
                    (
                        Assignment(record, None, reason=["nothing identifies the person"]),
                        p,
                        keys,
                        False,
                    )
                )
                continue
            if at in alone and (held := linker.held_alone(p, linker.final(alone[at]))):
                identity, why = held
                out.append((Assignment(record, identity, reason=list(why)), p, keys,
                            not record.receipt))  # fmt: skip
                continue
            had = {k: set(linker.blocks.get(k, ())) for k in keys}
            merges = len(linker.moves)
            group = record.source if record.source in self.distinct_sources else ""
            identity, _ = linker.add(p.person, group, prepared=p, keys=keys)
            if at in sole and identity != sole[at]:  # not its known holder: all keys held
                keys = _all_keys(p)
                self._hold(linker, keys, identity)
            created = identity >= first_new and not linker.people[identity][:-1]
            brings = created or any(identity not in had.get(k, ()) for k in keys)
            reason = ["new: no likely match"] if created else linker.explain()
            reason += [
                f"merged customer {loser} into {into}" for loser, into, _ in linker.moves[merges:]
            ]
            out.append(
                (
                    Assignment(record, identity, created, reason),
                    p,
                    keys,
                    brings or not record.receipt,
                )
            )
        return self._save(conn, linker, out, bound, stored, first_new)

    @staticmethod
    def _hold(linker: Linker, keys: Iterable[str], identity: int) -> None:
        for key in keys:
            owners = linker.blocks.setdefault(key, [])
            if identity not in owners:
                owners.append(identity)

    def _save(self, conn, linker, out, bound, stored, first_new) -> list[Assignment]:  # noqa: ANN001
        final = linker.final
        new: dict[int, tuple[str, str]] = {}
        records, moved = [], []
        holders = model_index.Holders(stored)
        for loser, _winner, keys in linker.moves:
            winner = final(loser)
            for key in keys:
                holders.let_go(key, loser)
                holders.hold(key, winner)
        merged = {loser: final(loser) for loser, _, _ in linker.moves}
        assigned = []
        for a, p, keys, keep in out:
            if a.created:  # the customer it made, folded or not since: a row of its own
                new.setdefault(a.identity, (a.record.name or written_name(p), a.record.source))
            if a.identity is not None:
                a.identity = final(a.identity)
            assigned.append(a)
            if a.identity is None or not keep:
                continue
            for key in keys:
                holders.hold(key, a.identity)
            ref = (a.record.source, a.record.source_id)
            why = _json(a.reason)
            if ref in bound:  # what it says now; why it joined stays
                moved.append((a.identity, to_json(p.person), *ref))
            else:
                records.append((ref[1], ref[0], a.identity, why, to_json(p.person)))
        model_index.save(conn, new, records, moved, holders.added, holders.dropped, merged)
        return assigned


def _keys_and_owners(
    conn: Connection, records: list[Record], prepared: list[Prepared], bound: dict
) -> tuple[list[list[str]], dict[str, list[int]], dict[int, int]]:
    """Each record's blocking keys, who holds them, and the records looked up by their
    identifiers alone (index -> the one customer holding every one of them).

    A record with identifiers and nothing else (the till's usual receipt) is first
    looked up by its exact keys.  When one known customer holds all of them, those
    are its keys: the near keys could only add people a keystroke off, and a near
    identifier alone never outweighs exact ones, so the answer is the same for a
    twelfth of the look-ups.  Otherwise its keys are read in full, a second read."""
    quick = [
        identifiers_only(p.person) and (r.source, r.source_id) not in bound
        for r, p in zip(records, prepared, strict=True)
    ]
    keyed = [
        exact_keys(p.person) if q else _all_keys(p) for p, q in zip(prepared, quick, strict=True)
    ]
    asked = {k for ks in keyed for k in ks}
    stored = model_index.owners(conn, asked)
    sole: dict[int, int] = {}
    again = []
    for at, q in enumerate(quick):
        if not q:
            continue
        holders = {tuple(stored.get(k, ())) for k in keyed[at]}
        only = next(iter(holders)) if len(holders) == 1 else ()
        if len(only) == 1 and only[0] != FULL:
            sole[at] = only[0]
        else:
            again.append(at)
            keyed[at] = _all_keys(prepared[at])
    more = {k for at in again for k in keyed[at]} - asked
    if more:
        stored.update(model_index.owners(conn, more))
    return keyed, stored, sole


def _all_keys(p: Prepared) -> list[str]:
    """A record's blocking keys, each once (exact keys are distinct already)."""
    return list(dict.fromkeys(blocking_keys(p)))


def written_name(p: Prepared) -> str:
    """A customer's name to show when its record has no full name: Фамилия Имя Отчество."""
    person = p.person
    return " ".join(w for w in (person.surname, person.given, person.patronymic) if w).title()


def _json(reason: list[str]) -> str:
    return json.dumps(reason, ensure_ascii=False)
