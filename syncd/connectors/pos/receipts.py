"""What every POS reader yields: receipts, or rejected lines with where and why.

A receipt, whatever the export: ``receipt_id`` (unique within the store
group), ``store``, ``at`` (ISO 8601 with the zone), ``operation`` (``sale`` or
``return``), ``total`` (roubles), ``items`` and ``buyer`` (phone, e-mail,
card, name — any may be empty).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO


@dataclass
class Reject:
    line: int
    field: str  # the field at fault, or "line" / "file"
    reason: str
    raw: str = ""


@dataclass
class Receipt:
    line: int  # where it starts in the file
    data: dict[str, Any] = field(default_factory=dict)


class RowError(ValueError):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name


def money(text: object, field_name: str) -> float:
    """A number written ``1 234,50`` or ``1234.50``; RowError naming the field otherwise."""
    raw = str(text if text is not None else "").strip().replace("\u00a0", "").replace(" ", "")
    try:
        value = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        raise RowError(field_name, f"not a number: {str(text)[:40]!r}") from None
    if not value.is_finite():
        raise RowError(field_name, f"not a number: {str(text)[:40]!r}")
    return float(value)


def bounded_lines(stream: BinaryIO, max_line_bytes: int) -> Iterator[tuple[int, int, bytes | None]]:
    """(line number, byte offset of the line, bytes) — None for a line too long to read."""
    number = offset = 0
    while True:
        chunk = stream.readline(max_line_bytes + 1)
        if not chunk:
            return
        number += 1
        start = offset
        offset += len(chunk)
        if len(chunk) > max_line_bytes and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):  # skip the rest of the line
                chunk = stream.readline(1 << 20)
                offset += len(chunk)
            yield number, start, None
            continue
        yield number, start, chunk
