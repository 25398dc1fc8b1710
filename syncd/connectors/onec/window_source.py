"""Changes from 1C without an exchange plan: polling by a date window.

For bases where no exchange plan can be added.  Each poll reads the set's
entries whose date field (``Date`` for documents, ``Period`` for registers)
is at or after ``high - overlap``, where ``high`` is the newest date seen so
far, paging by the full key.  The overlap re-reads the recent past, so a row
written late — dated before ``high`` but committed after the last poll —
is still found, as long as it is no older than the overlap.  To keep the
re-reading cheap, the cursor remembers each object in the window with the
hash of its content: an entry is an event only when it is new or its content
changed (a re-write that only bumped ``DataVersion`` is not).

``revisit_seconds`` widens every window to the last N seconds, to catch
edits of older documents (1C keeps a document's date when it is edited);
edits older than that are only seen through a webhook nudge or an exchange
plan — which is why the plan is the better choice where it is possible.

    sources:
      - name: erp_orders
        kind: erp_window
        system: erp
        options: {set: Document_ЗаказКлиента, entity: order, overlap_seconds: 600}
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from syncd.connectors.onec.changes import EntryReader, content_hash, key_text
from syncd.connectors.onec.connection import erp_client_for, erp_zone
from syncd.connectors.onec.date_window import DateWindow
from syncd.connectors.onec.metadata import Metadata
from syncd.connectors.onec.nudges import Nudges
from syncd.connectors.onec.values import field, literal
from syncd.engine.contracts import Source, SourceBatch, WebhookRoute
from syncd.engine.pipeline import register
from syncd.model import fingerprint


class WindowOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    set: str = Field(..., description="the 1C set to read, e.g. Document_ЗаказКлиента")
    entity: str = Field(..., description="syncd's name for its objects, e.g. order")
    date_field: str = "Date"
    overlap_seconds: float = Field(600.0, ge=0)
    revisit_seconds: float = Field(0.0, ge=0)
    first_lookback_seconds: float = Field(86400.0, ge=0)
    filter: str | None = Field(None, description="an extra $filter, and-ed to the window")
    nudge_rereads_per_poll: int = Field(
        50, ge=1, description="objects a webhook named, re-read by key per poll (the rest wait)"
    )
    webhook_path: str = "/webhooks/1c"


@register
class ErpWindowSource(Source):
    kind = "erp_window"
    Options = WindowOptions

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        field(self.options.date_field)  # a name, never a piece of query
        self.client = erp_client_for(self.context)
        self.zone = erp_zone(self.context.settings.erp)
        self.sets = {self.options.set: self.options.entity}
        self.nudges = Nudges(self.sets, self.options.webhook_path, self._known_metadata)
        self._reader: EntryReader | None = None
        self.now = lambda: datetime.now(self.zone).replace(tzinfo=None, microsecond=0)
        o = self.options
        self.window = DateWindow(o.overlap_seconds, o.first_lookback_seconds, o.revisit_seconds)

    @property
    def reader(self) -> EntryReader:
        if self._reader is None:
            meta = self.client.metadata()
            meta.entity(self.options.set).type_of(self.options.date_field)
            self._reader = EntryReader(self.system, self.name, self.sets, meta)
        return self._reader

    def _known_metadata(self) -> Metadata | None:
        """``$metadata`` if this source has read it (a webhook call never waits on 1C)."""
        return self._reader.meta if self._reader is not None else None

    def poll(self, cursor: Any) -> Iterator[SourceBatch]:
        state = dict(cursor or {})
        seen_at = f"poll:{time.time():.3f}"
        nudged = self.nudges.reread_pending(
            self.client, lambda: self.reader, seen_at, limit=self.options.nudge_rereads_per_poll
        )
        if nudged is not None:
            yield SourceBatch(nudged[0], state or None, nudged[1])
        run = self.window.run(cursor, self.now())
        flt = f"{self.options.date_field} ge {literal(run.start)}"
        if self.options.filter:
            flt = f"({flt}) and ({self.options.filter})"
        reader, set_name, date_field = self.reader, self.options.set, self.options.date_field
        batch, rejected = [], []
        where = f"{set_name} window from {run.start.isoformat()}"
        entries = self.client.entities(set_name, reader.meta, filter=flt)
        for position, entry in enumerate(entries, start=1):
            event, bad = reader.entry(set_name, None, entry, seen_at, f"{where}, entry {position}")
            if bad is not None and run.saw(*unreadable(reader, set_name, entry, date_field)):
                rejected.append(bad)  # once: the window reads it again, unchanged, next poll
            if event is not None:
                data = event.payload["data"]
                stamp = str(data.get(date_field) or "")
                if run.saw(event.external_id, content_hash(data), stamp):
                    batch.append(event)  # new in the window, or changed since the last poll
            if len(batch) >= 200:
                # the cursor moves at the end only
                yield SourceBatch(batch, state or None, rejected)
                batch, rejected = [], []
        yield SourceBatch(batch, run.cursor(), rejected)

    def webhooks(self) -> list[WebhookRoute]:
        return [self.nudges.route()]


def unreadable(reader: EntryReader, set_name: str, raw: dict, date_field: str) -> tuple:
    """What the window remembers of an entry it could not read: ``(id, digest, date)``
    from the raw entry, so the same broken entry is rejected once, and again only
    when it changes."""
    names = reader.meta.entity(set_name).key
    ident = key_text({name: str(raw.get(name, "")).lower() for name in names})
    return ident, "unreadable:" + fingerprint(raw), str(raw.get(date_field) or "")
