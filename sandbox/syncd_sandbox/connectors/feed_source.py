"""A source that reads changes from a JSON-lines file, one change per line.

Each line: ``{"entity": "customer", "id": "C1", "version": "3", "data": {...},
"changed_at": 1764000000.0}`` (``changed_at`` optional).  The cursor is the
byte offset after the last complete line read, so lines appended later are
picked up on the next poll and a half-written last line waits.  A line that
is not valid JSON or lacks a field is rejected with its file and line number
and never blocks the lines after it.  The same source takes pushes on
``/webhooks/<stream>`` with one such object as the JSON body.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from syncd.engine.contracts import Rejected, Source, SourceBatch, WebhookRoute
from syncd.engine.pipeline import register
from syncd.model import Event

REQUIRED = ("entity", "id", "version", "data")


class FeedOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(description="the JSON-lines file (relative to the config file)")
    batch_lines: int = Field(500, ge=1, le=10000)


def parse_change(record: Any, system: str, stream: str) -> Event:
    """Turn one feed record into an Event; ValueError names the missing or bad field."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    for name in REQUIRED:
        if name not in record:
            raise ValueError(f"field {name!r} is missing")
    if not isinstance(record["data"], dict):
        raise ValueError("field 'data': expected an object")
    changed_at = record.get("changed_at")
    if changed_at is not None and not isinstance(changed_at, int | float):
        raise ValueError("field 'changed_at': expected epoch seconds")
    return Event(
        system=system,
        entity=str(record["entity"]),
        external_id=str(record["id"]),
        version=str(record["version"]),
        payload=record["data"],
        changed_at=changed_at,
        stream=stream,
    )


@register
class FeedFileSource(Source):
    kind = "feed_file"
    Options = FeedOptions

    @property
    def path(self) -> Path:
        return self.context.settings.resolve_path(self.options.path)

    def poll(self, cursor: Any) -> Iterator[SourceBatch]:
        offset = int(cursor or 0)
        if not self.path.exists():
            raise FileNotFoundError(f"feed file {self.path} does not exist")
        with self.path.open("rb") as fh:
            fh.seek(offset)
            line_no = _line_number(self.path, offset)
            events: list[Event] = []
            rejected: list[Rejected] = []
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break  # still being written; read it next time
                line_no += 1
                offset += len(raw)
                self._read_line(raw, line_no, events, rejected)
                if len(events) + len(rejected) >= self.options.batch_lines:
                    yield SourceBatch(events, offset, rejected)
                    events, rejected = [], []
            if events or rejected:
                yield SourceBatch(events, offset, rejected)

    def _read_line(self, raw: bytes, line_no: int, events: list, rejected: list) -> None:
        where = f"{self.path.name}:{line_no}"
        text = raw.strip()
        if not text:
            return
        try:
            events.append(parse_change(json.loads(text), self.system, self.name))
        except UnicodeDecodeError as exc:
            rejected.append(Rejected(where, f"not UTF-8: {exc.reason}", raw.hex()[:400]))
        except (json.JSONDecodeError, ValueError) as exc:
            rejected.append(Rejected(where, str(exc), text.decode("utf-8", "replace")[:2000]))

    def webhooks(self) -> list[WebhookRoute]:
        return [WebhookRoute(f"/webhooks/{self.name}", self._pushed)]

    def _pushed(self, request: Any) -> list[Event]:
        return [parse_change(request.json(), self.system, self.name)]


def _line_number(path: Path, offset: int) -> int:
    if offset == 0:
        return 0
    with path.open("rb") as fh:
        return fh.read(offset).count(b"\n")
