"""FNS/OFD fiscal receipts as JSON (reference §5.2), read defensively.

Accepted shapes: JSON lines (``.jsonl``, one receipt a line), one receipt, a
list of receipts, and the FNS wrappers ``{"document": {"receipt": …}}`` /
``{"receipt": …}``.  Amounts are kopecks (``totalSum``, items' ``price`` and
``sum``); ``dateTime`` is unix seconds or a local ISO string; the buyer's
phone or e-mail is tag 1008 ``buyerPhoneOrAddress`` (older ``buyerAddress``);
the receipt id is the fiscal drive and document numbers; ``operationType`` 2
is a return.  A broken line, or the broken tail of a truncated list, is
rejected with its position; the receipts before it are kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from syncd.connectors.pos.receipts import Receipt, Reject, RowError, bounded_lines

MAX_JSON_BYTES = 64 << 20  # a bigger single JSON document must come as JSON lines


def read_ofd(
    stream: BinaryIO, *, lines: bool, zone: ZoneInfo, size: int, max_line_bytes: int = 1 << 20
) -> Iterator[Receipt | Reject]:
    if size == 0:
        yield Reject(0, "file", "the file is empty")
        return
    if lines:
        for number, _, raw in bounded_lines(stream, max_line_bytes):
            if raw is None:
                yield Reject(number, "line", f"longer than {max_line_bytes} bytes: skipped")
                continue
            if not raw.strip():
                continue
            try:
                doc = json.loads(raw.decode("utf-8-sig"))
            except (UnicodeDecodeError, ValueError) as exc:
                yield Reject(
                    number, "line", f"not JSON: {exc}", raw[:300].decode("utf-8", "replace")
                )
                continue
            yield from _one(doc, number, zone)
        return
    if size > MAX_JSON_BYTES:
        yield Reject(0, "file", f"a JSON document of {size >> 20} MB: export JSON lines (.jsonl)")
        return
    text = stream.read().decode("utf-8-sig", errors="replace")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        yield from _salvage(text, exc, zone)
        return
    for item in doc if isinstance(doc, list) else [doc]:
        yield from _one(item, 1, zone)


def _salvage(text: str, error: ValueError, zone: ZoneInfo) -> Iterator[Receipt | Reject]:
    """A truncated list: the whole receipts before the break, then where it broke."""
    decoder, pos = json.JSONDecoder(), text.find("[")
    if pos < 0:
        yield Reject(getattr(error, "lineno", 0), "file", f"not JSON: {error}")
        return
    pos += 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            break
        line = text.count("\n", 0, pos) + 1
        try:
            item, pos = decoder.raw_decode(text, pos)
        except ValueError as exc:
            yield Reject(line, "file", f"truncated or broken JSON from here: {exc}")
            return
        yield from _one(item, line, zone)


def _one(doc: Any, line: int, zone: ZoneInfo) -> Iterator[Receipt | Reject]:
    receipt = doc
    if isinstance(doc, dict):
        receipt = (doc.get("document") or {}).get("receipt") or doc.get("receipt") or doc
    if not isinstance(receipt, dict):
        yield Reject(line, "receipt", "not a receipt object")
        return
    try:
        yield Receipt(line, _receipt(receipt, zone))
    except RowError as exc:
        yield Reject(line, exc.field, str(exc), json.dumps(receipt, ensure_ascii=False)[:300])


def _kopecks(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RowError(field, f"expected an amount in kopecks, got {str(value)[:40]!r}")
    return round(value / 100, 2)


def _receipt(r: dict, zone: ZoneInfo) -> dict:
    drive, number = r.get("fiscalDriveNumber"), r.get("fiscalDocumentNumber")
    if not drive or number in (None, ""):
        raise RowError("fiscalDocumentNumber", "fiscal drive and document numbers are required")
    raw_time = r.get("dateTime")
    try:
        if isinstance(raw_time, int | float) and not isinstance(raw_time, bool):
            at = datetime.fromtimestamp(raw_time, UTC).astimezone(zone)
        else:
            at = datetime.fromisoformat(str(raw_time)).replace(tzinfo=zone)
    except (ValueError, OverflowError, OSError):
        raise RowError("dateTime", f"not a date: {str(raw_time)[:40]!r}") from None
    contact = str(r.get("buyerPhoneOrAddress") or r.get("buyerAddress") or "").strip()
    items = [
        {
            "sku": str(i.get("productCode") or ""),
            "name": str(i.get("name") or ""),
            "quantity": float(i.get("quantity") or 1),
            "price": _kopecks(i.get("price", 0), "items.price"),
            "amount": _kopecks(i.get("sum", 0), "items.sum"),
        }
        for i in r.get("items") or []
        if isinstance(i, dict)
    ]
    return {
        "receipt_id": f"{drive}-{number}",
        "store": str(
            r.get("retailPlace") or r.get("retailPlaceAddress") or r.get("kktRegId") or ""
        ),
        "at": at.isoformat(),
        "operation": "return" if r.get("operationType") in (2, "2") else "sale",
        "total": _kopecks(r.get("totalSum"), "totalSum"),
        "items": items,
        "buyer": {
            "phone": "" if "@" in contact else contact,
            "email": contact if "@" in contact else "",
            "card": "",
            "name": str((r.get("buyerInformation") or {}).get("buyer") or ""),
        },
    }
