"""A store group's CSV export (one row per receipt line), read defensively.

- encoding: decided once for the file, by its own lines, so that one bad byte
  sequence cannot flip it.  A UTF-8 BOM means UTF-8.  Otherwise the first
  lines that are not plain ASCII (up to 50, within the first MB) vote: each
  is valid UTF-8 or not; the file is cp1251 only when most of them are not
  (Cyrillic in cp1251 is almost never valid UTF-8, while a UTF-8 export with
  one damaged line still has a majority of good ones).  Each line is then
  decoded on its own: a line that is not valid text in the file's encoding
  is rejected, naming its line and the byte offset (in the line and in the
  file), and the rest of the file goes on;
- delimiter: the one of ``; , tab |`` the header uses most;
- columns: by header, as ``mappings/pos_csv.yaml`` names them; a required
  column missing from the header rejects the file with the column named;
- a row with an empty required field, a non-numeric amount, an impossible
  date, or that is not CSV at all is rejected with its line and field, and
  the rest of its receipt with it (a receipt is loaded whole or not at all);
  other receipts go on;
- lines longer than ``max_line_bytes`` are rejected and skipped without
  reading them into memory.

    for item in read_csv(open(path, "rb"), mapping):   # Receipt | Reject
        ...
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO
from zoneinfo import ZoneInfo

from syncd.connectors.pos.receipts import Receipt, Reject, RowError, bounded_lines, money
from syncd.mappings.model import PosCsvMapping

DELIMITERS = ";,\t|"
SAMPLE_BYTES = 1 << 20  # where the encoding is decided
VOTING_LINES = 50  # non-ASCII lines that decide it


def decide_encoding(sample: bytes, whole_file: bool) -> str:
    """``utf-8-sig``, ``utf-8`` or ``cp1251``, by the vote described in the module docstring."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if not whole_file:  # the last line of the sample may be cut in the middle of a character
        sample = sample[: sample.rfind(b"\n") + 1]
    utf8 = other = 0
    for line in sample.splitlines():
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8 += 1
        except UnicodeDecodeError:
            other += 1
        if utf8 + other >= VOTING_LINES:
            break
    return "cp1251" if other > utf8 else "utf-8"


def read_csv(
    stream: BinaryIO, mapping: PosCsvMapping, max_line_bytes: int = 1 << 20
) -> Iterator[Receipt | Reject]:
    sample = stream.read(SAMPLE_BYTES)
    stream.seek(0)
    if not sample.strip():
        yield Reject(0, "file", "the file is empty")
        return
    encoding = decide_encoding(sample, len(sample) < SAMPLE_BYTES)
    bom = len(codecs.BOM_UTF8) if encoding == "utf-8-sig" else 0
    encoding = "utf-8" if bom else encoding
    zone = ZoneInfo(mapping.timezone)
    header, delimiter, columns = None, ";", {}
    current: list[tuple[int, dict, str]] = []
    bad_receipts: set[str] = set()
    for number, offset, raw in bounded_lines(stream, max_line_bytes):
        if raw is None:
            yield Reject(number, "line", f"longer than {max_line_bytes} bytes: skipped")
            continue
        if number == 1 and bom:
            raw, offset = raw[bom:], offset + bom
        try:
            text = raw.decode(encoding).rstrip("\r\n")
        except UnicodeDecodeError as exc:
            yield Reject(
                number,
                "line",
                f"not valid {encoding} text at byte {exc.start} of the line "
                f"(byte {offset + exc.start} of the file)",
                raw.decode(encoding, "replace").rstrip("\r\n")[:500],
            )
            continue
        if not text.strip():
            continue
        if header is None:
            delimiter = max(DELIMITERS, key=text.count)
        try:
            cells = _cells(text, delimiter)
        except RowError as exc:
            yield Reject(number, exc.field, str(exc), text[:500])
            continue
        if header is None:
            header = [h.strip() for h in cells]
            missing = [f for f in mapping.required if mapping.columns.get(f) not in header]
            if missing:
                names = ", ".join(f"{f} ({mapping.columns.get(f, '?')!r})" for f in missing)
                yield Reject(number, "file", f"missing column(s): {names}", text[:200])
                return
            columns = {f: header.index(c) for f, c in mapping.columns.items() if c in header}
            continue
        row = {f: (cells[i].strip() if i < len(cells) else "") for f, i in columns.items()}
        receipt_id = row.get("receipt_id", "")
        if current and current[0][1].get("receipt_id") != receipt_id:
            yield from _finish(current, bad_receipts, zone, mapping)
            current = []
        try:
            _check(row, mapping)
        except RowError as exc:
            bad_receipts.add(receipt_id)
            yield Reject(number, exc.field, str(exc), text[:500])
        current.append((number, row, text))
    if current:
        yield from _finish(current, bad_receipts, zone, mapping)


def _cells(text: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([text], delimiter=delimiter))
    except csv.Error as exc:  # e.g. a field over the csv module's size limit
        raise RowError("line", f"not CSV: {exc}") from None


def _check(row: dict, mapping: PosCsvMapping) -> None:
    for name in mapping.required:
        if not row.get(name):
            raise RowError(name, "empty")
    for name in ("amount", "quantity", "price", "total"):
        if row.get(name):
            money(row[name], name)
    _when(row, mapping, None)


def _when(row: dict, mapping: PosCsvMapping, zone: ZoneInfo | None) -> str:
    text = row.get("datetime") or " ".join(filter(None, (row.get("date"), row.get("time"))))
    for fmt in mapping.date_formats:
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return moment.replace(tzinfo=zone).isoformat() if zone else ""
    raise RowError("datetime", f"not a date in the expected formats: {text[:40]!r}")


def _finish(
    rows: list[tuple[int, dict, str]], bad: set[str], zone: ZoneInfo, mapping: PosCsvMapping
) -> Iterator[Receipt | Reject]:
    first_line, first, _ = rows[0]
    receipt_id = first.get("receipt_id", "")
    if receipt_id in bad:
        for number, row, text in rows:
            try:
                _check(row, mapping)
            except RowError:
                continue  # already rejected with its own reason
            yield Reject(
                number, "receipt", f"another line of receipt {receipt_id} was rejected", text[:500]
            )
        return
    items = [
        {
            "sku": row.get("sku", ""),
            "name": row.get("item", ""),
            "quantity": money(row["quantity"], "quantity") if row.get("quantity") else 1.0,
            "price": money(row["price"], "price") if row.get("price") else None,
            "amount": money(row["amount"], "amount"),
        }
        for _, row, _ in rows
    ]
    total = (
        money(first["total"], "total") if first.get("total") else sum(i["amount"] for i in items)
    )
    operation = first.get("operation", "").strip().lower()
    yield Receipt(
        first_line,
        {
            "receipt_id": receipt_id,
            "store": first.get("store", ""),
            "at": _when(first, mapping, zone),
            "operation": "return" if operation in mapping.returns else "sale",
            "total": round(total, 2),
            "items": items,
            "buyer": {
                **{k: first.get(k, "") for k in ("phone", "email", "card", "name")},
                # only when mapped: a receipt read before reads the same after
                **{k: first.get(k, "") for k in ("birth_date",) if k in mapping.columns},
            },
        },
    )
