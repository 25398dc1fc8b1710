"""FNS/OFD fiscal receipts as JSON (reference §5.2), read defensively.

Accepted shapes: JSON lines (``.jsonl``, one receipt a line), one receipt, a
list of receipts, and the FNS wrappers ``{"document": {"receipt": …}}`` /
``{"receipt": …}``.  Amounts are kopecks (``totalSum``, items' ``price`` and
``sum``); ``dateTime`` is unix seconds or a local ISO string; the buyer's
phone or e-mail is tag 1008 ``buyerPhoneOrAddress`` (older ``buyerAddress``);
the receipt id is the fiscal drive and document numbers; ``operationType`` 2
is a return.  A broken line, or the broken tail of a truncated list, is
rejected with its position; the receipts before it are kept.

Nesting is checked before parsing, by a linear scan without recursion
(``nested_deeper_than``): a JSON line nested deeper than ``max_json_depth`` is
rejected, a JSON document is refused as a whole (``Refused``: the file is
set aside), so the recursive decoder never meets input that could exhaust
its stack.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from syncd.connectors.pos.receipts import (
    Limits,
    Receipt,
    Refused,
    Reject,
    RowError,
    bounded_lines,
)

# a JSON string, or one left open to the end of the data (linear either way, no backtracking)
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
for _open, _close in (b"[]", b"{}"):
    _STEP[_open], _STEP[_close] = 1, -1
_CHUNK = 1 << 16


def nested_deeper_than(data: bytes, limit: int) -> bool:
    """Whether JSON text nests more than ``limit`` levels — by a scan, never by recursion.

    Strings are cut out, the brackets left are summed in C-level iterators a
    chunk at a time, stopping at the first chunk that goes too deep.
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", data).translate(None, _NOT_A_BRACKET)
    depth = 0
    for start in range(0, len(brackets), _CHUNK):
        levels = list(
            accumulate(map(_STEP.__getitem__, brackets[start : start + _CHUNK]), initial=depth)
        )
        if max(levels) > limit:
            return True
        depth = levels[-1]
    return False


def read_ofd(
    stream: BinaryIO, *, lines: bool, zone: ZoneInfo, size: int, limits: Limits
) -> Iterator[Receipt | Reject]:
    if size == 0:
        yield Reject(0, "file", "the file is empty")
        return
    if lines:
        yield from _json_lines(stream, zone, limits)
        return
    if size > limits.max_json_bytes:
        raise Refused(
            f"a JSON document of {size} bytes, over max_json_bytes ({limits.max_json_bytes}): "
            "export JSON lines (.jsonl)"
        )
    data = stream.read(limits.max_json_bytes + 1)
    if len(data) > limits.max_json_bytes:
        raise Refused(f"a JSON document over max_json_bytes ({limits.max_json_bytes})")
    if nested_deeper_than(data, limits.max_json_depth):
        raise Refused(f"nested deeper than {limits.max_json_depth} levels: not parsed")
    text = data.decode("utf-8-sig", errors="replace")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        yield from _salvage(text, exc, zone)
        return
    for item in doc if isinstance(doc, list) else [doc]:
        yield from _one(item, 1, zone)


def _json_lines(stream: BinaryIO, zone: ZoneInfo, limits: Limits) -> Iterator[Receipt | Reject]:
    for number, offset, raw in bounded_lines(stream, limits.max_line_bytes):
        if raw is None:
            yield Reject(number, "line", f"longer than {limits.max_line_bytes} bytes: skipped")
            continue
        if not raw.strip():
            continue
        if nested_deeper_than(raw, limits.max_json_depth):
            yield Reject(
                number,
                "line",
                f"nested deeper than {limits.max_json_depth} levels (the line starts at byte "
                f"{offset} of the file): not parsed",
            )
            continue
        try:
            doc = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            yield Reject(number, "line", f"not JSON: {exc}", raw[:300].decode("utf-8", "replace"))
            continue
        yield from _one(doc, number, zone)


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
        document = doc.get("document")
        wrapped = document.get("receipt") if isinstance(document, dict) else None
        receipt = wrapped or doc.get("receipt") or doc
    if not isinstance(receipt, dict):
        yield Reject(line, "receipt", "not a receipt object")
        return
    try:
        data = _receipt(receipt, zone)
    except RowError as exc:
        field, reason = exc.field, str(exc)
    except (TypeError, ValueError, AttributeError) as exc:  # a shape no field check foresaw
        field, reason = "receipt", f"not a receipt this reader understands ({type(exc).__name__})"
    else:
        yield Receipt(line, data)
        return
    yield Reject(line, field, reason, json.dumps(receipt, ensure_ascii=False)[:300])


def _kopecks(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RowError(field, f"expected an amount in kopecks, got {str(value)[:40]!r}")
    return round(value / 100, 2)


def _quantity(value: Any) -> float:
    try:
        return float(value or 1)
    except (TypeError, ValueError):
        raise RowError("items.quantity", f"not a number: {str(value)[:40]!r}") from None


def _field(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else None


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
            "quantity": _quantity(i.get("quantity")),
            "price": _kopecks(i.get("price", 0), "items.price"),
            "amount": _kopecks(i.get("sum", 0), "items.sum"),
        }
        for i in (r.get("items") if isinstance(r.get("items"), list) else [])
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
            "name": str(_field(r.get("buyerInformation"), "buyer") or ""),
        },
    }
