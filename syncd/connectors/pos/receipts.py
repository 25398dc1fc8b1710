"""What every POS reader yields: receipts, or rejected lines with where and why.

A receipt, whatever the export: ``receipt_id`` (unique within the store
group), ``store``, ``at`` (ISO 8601 with the zone), ``operation`` (``sale`` or
``return``), ``total`` (roubles), ``items`` and ``buyer`` (phone, e-mail,
card, name — any may be empty).

A problem of one line or record is a ``Reject`` and the file goes on.  A
problem of the file as a whole that makes reading it unsafe — over a size or
nesting limit (``Limits``), not a regular file — is ``Refused``; whatever
stops a reader ends as one ``Unreadable``, and the file is set aside
(``syncd/connectors/pos/export_file.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO

from syncd.errors import SyncdError


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


@dataclass
class Unreadable:
    """The file could not be read on from here; it is set aside (quarantined)."""

    line: int  # the last line read before it stopped; 0 if nothing was
    reason: str  # for logs and dead letters: names no content of the file
    detail: str  # for the file's own rejects: may quote the reader's error


@dataclass(frozen=True)
class Limits:
    """How much of one POS input syncd is willing to read (options of ``pos_drop``)."""

    max_file_bytes: int = 1 << 30
    max_line_bytes: int = 1 << 20
    max_json_bytes: int = 64 << 20  # one JSON document; bigger exports come as JSON lines
    max_json_depth: int = 64


class Refused(SyncdError):
    """The file as a whole is refused before or while reading; the message is ours, safe to log."""


class RowError(SyncdError, ValueError):
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
