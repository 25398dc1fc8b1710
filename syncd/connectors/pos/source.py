"""The POS source: receipts from a store group's drop folder.

Each file claimed from ``<path>/incoming`` is read as CSV (columns as
``mappings/pos_csv.yaml`` names them) or FNS/OFD JSON (``.json``, ``.jsonl``)
by its extension, streamed in batches of receipts; the cursor remembers how
far into the file the committed batches reached, so a restart resumes it.
Bad lines go to ``done/<name>.rejects.csv`` and ``syncd_pos_rows_rejected``;
good receipts are never held back by them.  A file whose content was
already read (sha256, the last 1,000 files) is moved to ``done/`` untouched,
and a receipt read again is one event (its id and content are its key).

Nothing lost, nothing stuck: a file that cannot be read — not a regular file,
over a limit, or whatever its reader raised (``export_file``) — is set aside
in ``quarantine/`` with one ``record`` dead letter, stored with the cursor in
one transaction; the receipts read before it stay, and the next file goes
on.  The cursor also counts how many times the read of the file in flight
started at the same receipt: a file that stopped the process there (killed,
out of memory, crashed) ``INTERRUPTED_READS`` times is set aside the same way.

    sources:
      - name: pos_msk
        kind: pos_drop
        system: pos
        interval_seconds: 30
        options: {path: /var/lib/syncd/pos/msk, group: msk, site: store-msk}
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from syncd.connectors.pos.csv_export import read_csv
from syncd.connectors.pos.drop_folder import DropFolder
from syncd.connectors.pos.export_file import guarded, open_export, refusal
from syncd.connectors.pos.ofd_json import read_ofd
from syncd.connectors.pos.receipts import Limits, Receipt, Reject, Unreadable
from syncd.engine.contracts import Rejected, Source, SourceBatch
from syncd.engine.pipeline import register
from syncd.mappings.load import MappingError, load_one
from syncd.mappings.model import PosCsvMapping
from syncd.model import Event, fingerprint

RECENT_FILES = 1000
INTERRUPTED_READS = 3  # a file whose reading stopped the process this often in one place


class PosOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(..., description="the drop folder (incoming/, processing/, done/ inside)")
    group: str = Field(..., description="the store group (receipt ids are unique within it)")
    site: str | None = Field(None, description="the CRM site of this group's purchases")
    format: Literal["auto", "csv", "ofd"] = "auto"
    mapping: str = Field("pos_csv.yaml", description="the CSV mapping, in mappings_dir")
    timezone: str = "Europe/Moscow"
    settle_seconds: float = Field(5.0, ge=0)
    batch_receipts: int = Field(500, ge=1)
    files_per_poll: int = Field(10, ge=1)
    max_line_bytes: int = Field(1 << 20, ge=1024)
    max_file_bytes: int = Field(1 << 30, ge=1024, description="a bigger file is set aside unread")
    max_json_bytes: int = Field(64 << 20, ge=1024, description="one JSON document (not lines)")
    max_json_depth: int = Field(
        64, ge=4, le=500, description="deeper JSON is refused unparsed (the parser recurses)"
    )


@dataclass
class Ledger:
    """What the cursor remembers of the folder: the file in flight (how far, how many tries),
    and the files finished and set aside lately (sha256, or the entry that could not be opened)."""

    current: dict | None
    recent: list[str]
    quarantined: list[str]

    @classmethod
    def of(cls, cursor: Any) -> Ledger:
        state = dict(cursor or {})
        return cls(
            state.get("file"), list(state.get("recent") or []), list(state.get("quarantined") or [])
        )

    def cursor(self) -> dict:
        return {
            "file": dict(self.current) if self.current else None,
            "recent": list(self.recent),
            "quarantined": list(self.quarantined),
        }

    def finished(self, key: str) -> None:
        self.current, self.recent = None, (self.recent + [key])[-RECENT_FILES:]

    def set_aside(self, key: str) -> None:
        self.current = None
        self.quarantined = ([k for k in self.quarantined if k != key] + [key])[-RECENT_FILES:]


@register
class PosDropSource(Source):
    kind = "pos_drop"
    Options = PosOptions

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        settings = self.context.settings
        self.folder = DropFolder(
            settings.resolve_path(self.options.path), self.options.settle_seconds
        )
        self.zone = ZoneInfo(self.options.timezone)
        self.limits = Limits(
            max_file_bytes=self.options.max_file_bytes,
            max_line_bytes=self.options.max_line_bytes,
            max_json_bytes=self.options.max_json_bytes,
            max_json_depth=self.options.max_json_depth,
        )
        self.mapping: PosCsvMapping | None = None
        if self.options.format in ("auto", "csv"):
            try:
                self.mapping = load_one(settings.mappings_dir / self.options.mapping, PosCsvMapping)  # type: ignore[assignment]
            except MappingError as exc:
                raise ValueError(f"the POS CSV mapping is not valid:\n{exc}") from None

    def poll(self, cursor: Any) -> Iterator[SourceBatch]:
        ledger = Ledger.of(cursor)
        in_flight = (ledger.current or {}).get("name")
        resumed = sorted(self.folder.processing(), key=lambda p: p.name != in_flight)
        claimed = self.folder.claim_ready(self.options.files_per_poll)
        for path in resumed + claimed:
            yield from self._take(path, path in claimed, ledger)

    def _take(self, path: Path, fresh: bool, ledger: Ledger) -> Iterator[SourceBatch]:
        """One file from processing/ to done/ or quarantine/; ``fresh``: just claimed."""
        try:
            stream, digest = open_export(path, self.limits)
        except FileNotFoundError:
            return  # taken away meanwhile
        except Exception as exc:  # any at all: an entry that cannot be opened is set aside
            key = _entry_key(path)
            if not self._already_set_aside(path, key, fresh, ledger):
                yield from self._set_aside(path, key, ledger, refusal(exc, opening=True))
            return
        with stream:
            if digest in ledger.recent:
                self.folder.finish(path, [])
                self._count_file("duplicate")
                ledger.current = None
                yield SourceBatch([], ledger.cursor())
                return
            if self._already_set_aside(path, digest, fresh, ledger):
                return
            current = ledger.current if (ledger.current or {}).get("hash") == digest else {}
            skip, tries = int(current.get("receipts", 0)), int(current.get("tries", 0)) + 1
            if tries > INTERRUPTED_READS:
                reason = (
                    f"its reading was interrupted {INTERRUPTED_READS} times at receipt {skip + 1} "
                    "without getting further (the process stopped — killed, out of memory, "
                    "crashed — or storing what it read failed: see the stream's last error)"
                )
                yield from self._set_aside(path, digest, ledger, Unreadable(0, reason, reason))
                return
            ledger.current = {"name": path.name, "hash": digest, "receipts": skip, "tries": tries}
            yield SourceBatch([], ledger.cursor())  # stored before reading: a crash is counted
            yield from self._read(stream, path, digest, skip, ledger)

    def _read(
        self, stream: BinaryIO, path: Path, digest: str, skip: int, ledger: Ledger
    ) -> Iterator[SourceBatch]:
        rejects: list[Reject] = []
        events: list[Event] = []
        seen = 0
        for item in self.items(stream, path.name):
            if isinstance(item, Unreadable):
                yield from self._set_aside(path, digest, ledger, item, rejects, events, seen)
                return
            if isinstance(item, Reject):
                rejects.append(item)
                continue
            seen += 1
            if seen > skip:
                events.append(self.event(item, path.name))
            if len(events) >= self.options.batch_receipts:
                ledger.current = {"name": path.name, "hash": digest, "receipts": seen, "tries": 0}
                yield SourceBatch(events, ledger.cursor())
                events = []
        ledger.finished(digest)
        outcome = "empty" if not seen and any(r.field == "file" for r in rejects) else "done"
        yield SourceBatch(
            events, ledger.cursor(), after_commit=partial(self._finish, path, rejects, outcome)
        )

    def _set_aside(
        self,
        path: Path,
        key: str,
        ledger: Ledger,
        why: Unreadable,
        rejects: list[Reject] | None = None,
        events: list[Event] | None = None,
        receipts: int = 0,
    ) -> Iterator[SourceBatch]:
        """Quarantine the file: one dead letter and the cursor in one transaction, then the move."""
        ledger.set_aside(key)
        kept = f"; the {receipts} receipt(s) read before it are kept" if receipts else ""
        letter = Rejected(
            f"{path.name}:{why.line}" if why.line else path.name,
            f"{why.reason}; the file was moved to quarantine/{kept}",
            {"file": path.name, "folder": "quarantine", "line": why.line, "receipts": receipts},
        )
        rejects = [*(rejects or []), Reject(why.line, "file", why.detail)]
        yield SourceBatch(
            events or [],
            ledger.cursor(),
            [letter],
            after_commit=partial(self._finish, path, rejects, "quarantined"),
        )

    def _already_set_aside(self, path: Path, key: str, fresh: bool, ledger: Ledger) -> bool:
        """A file set aside just before a crash, its move not done yet: move it, nothing more."""
        if key not in ledger.quarantined:
            return False
        if fresh:  # the admin put it back (fixed, or a limit raised): read it again
            ledger.quarantined.remove(key)
            return False
        self.folder.quarantine(path, [Reject(0, "file", "set aside earlier: see the dead letters")])
        self._count_file("quarantined")
        return True

    def items(self, stream: BinaryIO, name: str) -> Iterator[Receipt | Reject | Unreadable]:
        """The receipts and rejected lines of an opened export; anything its reader raises
        ends them with one ``Unreadable``."""
        return guarded(self._parse(stream, name))

    def _parse(self, stream: BinaryIO, name: str) -> Iterator[Receipt | Reject]:
        suffix = Path(name).suffix.lower()
        fmt = self.options.format
        if fmt == "auto":
            fmt = (
                "csv"
                if suffix in (".csv", ".txt")
                else "ofd"
                if suffix in (".json", ".jsonl", ".ndjson")
                else ""
            )
        if not fmt:
            yield Reject(
                0, "file", f"unknown export format {suffix!r}: expected .csv, .json, .jsonl"
            )
        elif fmt == "csv":
            yield from read_csv(stream, self.mapping, self.limits.max_line_bytes)  # type: ignore[arg-type]
        else:
            yield from read_ofd(
                stream,
                lines=suffix in (".jsonl", ".ndjson"),
                zone=self.zone,
                size=os.fstat(stream.fileno()).st_size,
                limits=self.limits,
            )

    def event(self, receipt: Receipt, file_name: str) -> Event:
        """The inbox event of one receipt of this group."""
        data = {**receipt.data, "group": self.options.group, "site": self.options.site}
        try:
            changed_at = datetime.fromisoformat(data["at"]).timestamp()
        except (KeyError, ValueError):
            changed_at = time.time()
        return Event(
            system=self.system,
            entity="receipt",
            external_id=f"{self.options.group}:{data['receipt_id']}",
            version=fingerprint(data),
            payload={**data, "file": file_name, "line": receipt.line},
            changed_at=changed_at,
            stream=self.name,
        )

    def _finish(self, path: Path, rejects: list[Reject], outcome: str) -> None:
        move = self.folder.quarantine if outcome == "quarantined" else self.folder.finish
        move(path, rejects)
        self._count_file(outcome)
        metrics = self.context.metrics
        if metrics is not None:
            for r in rejects:
                metrics.pos_rows_rejected.labels(self.name, r.field).inc()

    def _count_file(self, outcome: str) -> None:
        if self.context.metrics is not None:
            self.context.metrics.pos_files.labels(self.name, outcome).inc()


def _entry_key(path: Path) -> str:
    """What the cursor remembers of an entry that could not be opened (its content unknown)."""
    try:
        return f"entry:{path.name}:{os.lstat(path).st_ino}"
    except OSError:
        return f"entry:{path.name}"
