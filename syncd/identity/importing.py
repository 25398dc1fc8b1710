"""Loading a file of people (a loyalty-card base, a CRM export) through the resolver.

``syncd customers import FILE --out MAP.csv`` reads CSV (a header row) or JSON
lines with the columns ``id, given_name, surname, patronymic, birth_date,
phone, email, card, street, house, postcode, city`` (any may be empty; a
``name`` column is split when the names are not apart) and resolves every
record, a batch per transaction, through the resolver the daemon uses
(customers.yaml ``matching``), into the configured store.  The map gives each
input record's final customer, after every merge the import made.

Bad rows lose nothing and stop nothing: a row with no id, or an id seen
before in the file, is rejected; a field that cannot be read (a birth date
that is no date) is left out and the row matched without it.  Both are listed
in the rejects file with the file's line number, the record and the field.
Records are bound by ``(source, id)``: importing the same file again finds
every record bound and changes nothing.

    summary = import_file(store, resolver, Path("cards.csv"), Path("map.csv"))
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from syncd.errors import SyncdError
from syncd.identity import index
from syncd.identity.keys import Record
from syncd.identity.people import birth_date
from syncd.store import Store

COLUMNS = ("id", "given_name", "surname", "patronymic", "birth_date", "phone", "email",
           "card", "street", "house", "postcode", "city")  # fmt: skip
BATCH = 1000


@dataclass
class Summary:
    records: int = 0
    customers: int = 0  # distinct customers the map names
    new_customers: int = 0
    merges: int = 0
    anonymous: int = 0  # records nothing identifies: no customer
    rejects: int = 0  # rows not resolved
    fields_left_out: int = 0
    problems: list[str] = field(default_factory=list)  # the first few, for the screen


@dataclass
class Row:
    line: int
    values: dict[str, str]


class Unreadable(SyncdError, ValueError):
    """The file cannot be read at all (its format, its header)."""


def rows(path: Path) -> Iterator[Row]:
    """The file's rows with their line numbers: CSV with a header, or JSON lines."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        first = f.readline()
        f.seek(0)
        if first.lstrip().startswith("{"):
            for n, text in enumerate(f, 1):
                if not text.strip():
                    continue
                try:
                    values = json.loads(text)
                except json.JSONDecodeError as exc:
                    yield Row(n, {"__error__": f"not JSON: {exc.msg}"})
                    continue
                if not isinstance(values, dict):
                    yield Row(n, {"__error__": "not a JSON object"})
                    continue
                yield Row(n, {k: "" if v is None else str(v) for k, v in values.items()})
            return
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t") if first else csv.excel
        reader = csv.DictReader(f, dialect=dialect)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        if "id" not in header:
            raise Unreadable(f"{path}: line 1: no 'id' column (columns: {', '.join(header)})")
        reader.fieldnames = header
        for values in reader:
            yield Row(reader.line_num, {k: (v or "").strip() for k, v in values.items() if k})


def record_of(row: Row, source: str, problems: list[str]) -> Record | None:
    """The row as a record; None (and a problem) when it cannot be one."""
    v = row.values
    if "__error__" in v:
        problems.append(f"line {row.line}: {v['__error__']}")
        return None
    rid = v.get("id", "").strip()
    if not rid:
        problems.append(f"line {row.line}: field id: empty")
        return None
    born = v.get("birth_date", "")
    if born and not birth_date(born):
        problems.append(
            f"line {row.line}: record {rid}: field birth_date: {born!r} is not a date: left out"
        )
        born = ""
    return Record(
        source, rid, v.get("name", ""),
        phones=[v["phone"]] if v.get("phone") else [],
        emails=[v["email"]] if v.get("email") else [],
        cards=[v["card"]] if v.get("card") else [],
        given=v.get("given_name", ""), surname=v.get("surname", ""),
        patronymic=v.get("patronymic", ""), birth_date=born, street=v.get("street", ""),
        house=v.get("house", ""), postcode=v.get("postcode", ""), city=v.get("city", ""),
    )  # fmt: skip


def import_file(
    store: Store,
    resolver,  # noqa: ANN001
    path: Path,
    out: Path,
    rejects: Path,
    source: str = "import",
    progress: Callable[[int], None] = lambda n: None,
) -> Summary:
    summary = Summary()
    seen: set[str] = set()
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as bound,
        rejects.open("w", encoding="utf-8", newline="") as rej,
    ):
        rejected = csv.writer(rej)
        rejected.writerow(["line", "problem"])
        batch: list[Record] = []

        def flush() -> None:
            with store.begin() as conn:
                for a in resolver.resolve(conn, batch):
                    bound.write(
                        f"{a.record.source_id}\t{'' if a.identity is None else a.identity}\n"
                    )
                    summary.new_customers += a.created
                    summary.merges += sum(1 for r in a.reason if r.startswith("merged customer"))
            progress(len(batch))
            batch.clear()

        for row in rows(path):
            summary.records += 1
            problems: list[str] = []
            record = record_of(row, source, problems)
            if record is not None and record.source_id in seen:
                problems.append(
                    f"line {row.line}: record {record.source_id}: field id: "
                    "seen before in this file"
                )
                record = None
            for problem in problems:
                rejected.writerow([row.line, problem])
                if len(summary.problems) < 10:
                    summary.problems.append(problem)
            if record is None:
                summary.rejects += 1
                progress(1)
                continue
            summary.fields_left_out += len(problems)
            seen.add(record.source_id)
            batch.append(record)
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
        with store.read() as conn:
            folded = index.folded(conn)
        customers: set[int] = set()
        bound.seek(0)
        with out.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["record_id", "customer_id"])
            for text in bound:
                rid, _, identity = text.rstrip("\n").partition("\t")
                if not identity:
                    summary.anonymous += 1
                    writer.writerow([rid, ""])
                    continue
                final = index.final(int(identity), folded)
                customers.add(final)
                writer.writerow([rid, final])
        summary.customers = len(customers)
    return summary


def count_rows(path: Path) -> int:
    """Rows to read (for the progress bar): lines, less a CSV's header."""
    with path.open("rb") as f:
        lines = sum(1 for line in f if line.strip())
        f.seek(0)
        head = f.readline().lstrip()
    return lines if head.startswith(b"{") else max(lines - 1, 0)
