"""The POS source: receipts from a store group's drop folder.

Each file claimed from ``<path>/incoming`` is read as CSV (columns as
``mappings/pos_csv.yaml`` names them) or FNS/OFD JSON (``.json``, ``.jsonl``)
by its extension, streamed in batches of receipts; the cursor remembers how
far into the file the committed batches reached, so a restart resumes it.
Bad lines go to ``done/<name>.rejects.csv`` and ``syncd_pos_rows_rejected``;
good receipts are never held back by them.  A file whose content was
already read (sha256, the last 1,000 files) is moved to ``done/`` untouched,
and a receipt read twice is one event (its id and content are its key).

    sources:
      - name: pos_msk
        kind: pos_drop
        system: pos
        interval_seconds: 30
        options: {path: /var/lib/syncd/pos/msk, group: msk, site: store-msk}
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from syncd.connectors.pos.csv_export import read_csv
from syncd.connectors.pos.drop_folder import DropFolder, content_hash
from syncd.connectors.pos.ofd_json import read_ofd
from syncd.connectors.pos.receipts import Receipt, Reject
from syncd.engine.contracts import Source, SourceBatch
from syncd.engine.pipeline import register
from syncd.mappings.load import MappingError, load_one
from syncd.mappings.model import PosCsvMapping
from syncd.model import Event, fingerprint

RECENT_FILES = 1000


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
        self.mapping: PosCsvMapping | None = None
        if self.options.format in ("auto", "csv"):
            try:
                self.mapping = load_one(settings.mappings_dir / self.options.mapping, PosCsvMapping)  # type: ignore[assignment]
            except MappingError as exc:
                raise ValueError(f"the POS CSV mapping is not valid:\n{exc}") from None

    def poll(self, cursor: Any) -> Iterator[SourceBatch]:
        state = dict(cursor or {})
        recent: list[str] = list(state.get("recent") or [])
        resume = state.get("file") or {}
        for path in self.folder.processing() + self.folder.claim_ready(self.options.files_per_poll):
            digest = content_hash(path)
            if digest in recent:
                self.folder.finish(path, [])
                self._count_file("duplicate")
                yield SourceBatch([], {"file": None, "recent": recent})
                continue
            skip = int(resume.get("receipts", 0)) if resume.get("hash") == digest else 0
            yield from self._read(path, digest, skip, recent)
            recent = (recent + [digest])[-RECENT_FILES:]
            resume = {}

    def _read(self, path: Path, digest: str, skip: int, recent: list[str]) -> Iterator[SourceBatch]:
        rejects: list[Reject] = []
        events: list[Event] = []
        seen = 0
        for item in self._items(path):
            if isinstance(item, Reject):
                rejects.append(item)
                continue
            seen += 1
            if seen > skip:
                events.append(self._event(item, path.name))
            if len(events) >= self.options.batch_receipts:
                yield SourceBatch(
                    events,
                    {
                        "file": {"name": path.name, "hash": digest, "receipts": seen},
                        "recent": recent,
                    },
                )
                events = []
        done = (recent + [digest])[-RECENT_FILES:]
        outcome = "empty" if not seen and any(r.field == "file" for r in rejects) else "done"
        yield SourceBatch(
            events,
            {"file": None, "recent": done},
            after_commit=partial(self._finish, path, rejects, outcome),
        )

    def _items(self, path: Path) -> Iterator[Receipt | Reject]:
        suffix = path.suffix.lower()
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
            return
        with path.open("rb") as stream:
            if fmt == "csv":
                yield from read_csv(stream, self.mapping, self.options.max_line_bytes)  # type: ignore[arg-type]
            else:
                yield from read_ofd(
                    stream,
                    lines=suffix in (".jsonl", ".ndjson"),
                    zone=self.zone,
                    size=path.stat().st_size,
                    max_line_bytes=self.options.max_line_bytes,
                )

    def _event(self, receipt: Receipt, file_name: str) -> Event:
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
        self.folder.finish(path, rejects)
        self._count_file(outcome)
        metrics = self.context.metrics
        if metrics is not None:
            for r in rejects:
                metrics.pos_rows_rejected.labels(self.name, r.field).inc()

    def _count_file(self, outcome: str) -> None:
        if self.context.metrics is not None:
            self.context.metrics.pos_files.labels(self.name, outcome).inc()
