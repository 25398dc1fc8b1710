"""Backfills: history read once into the inbox, beside the live sync, resumable.

A backfill is a source with its own stream (``backfill_erp``,
``backfill_pos_<group>``): its batches and its cursor are committed together
like any stream's, so an interrupted backfill resumes where it stopped, and
the daemon plans what it stores as it arrives — the live streams are not held
up.  A live change newer than the backfill's read wins: the inbox keeps the
newest snapshot of each object, and the order flow ignores a 1C state older
than the one it has seen (``DataVersion``).

- 1C orders: ``Document_ЗаказКлиента`` dated from ``--from``, paged by the
  full key (with 1C's own cap and rate from ``erp:``; run it off-peak);
- POS: every export file of an archive folder and its subfolders (left in
  place; links not followed), receipts dated from ``--from``.  A file the
  live source would set aside (a link, a FIFO, over a limit, one its reader
  stops on) is reported once as a dead letter and the backfill goes on.

    syncd backfill erp --from 2026-01-01
    syncd backfill pos --dir /srv/pos-archive/msk --group msk --from 2026-01-01
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from syncd.connectors.onec.changes import EntryReader
from syncd.connectors.onec.values import literal
from syncd.connectors.pos.export_file import open_export, refusal
from syncd.connectors.pos.receipts import Receipt, Unreadable
from syncd.engine.contracts import Rejected, Source, SourceBatch
from syncd.engine.sourcing import run_source
from syncd.store import Store, leases

Progress = Callable[[int], None]  # called with the number of items done since the last call


class ErpOrdersBackfill(Source):
    kind = "backfill_erp"

    def __init__(
        self,
        name: str,
        client: Any,
        since: datetime,
        set_name: str,
        progress: Progress,
        batch: int = 200,
    ) -> None:
        self.name, self.system, self.client, self.since = name, "erp", client, since
        self.set_name, self.progress, self.batch = set_name, progress, batch

    def poll(self, cursor: Any) -> Iterator[SourceBatch]:
        done = int((cursor or {}).get("read", 0))
        if (cursor or {}).get("finished"):
            return
        meta = self.client.metadata()
        reader = EntryReader("erp", self.name, {self.set_name: "order"}, meta)
        flt = f"Date ge {literal(self.since)}"
        seen_at = f"backfill:{time.time():.0f}"
        events, rejected, skipped, resume = [], [], 0, done
        for position, entry in enumerate(
            self.client.entities(self.set_name, meta, filter=flt), start=1
        ):
            if skipped < resume:  # resume: the committed part is not stored again
                skipped += 1
                continue
            where = f"backfill of {self.set_name}, entry {position}"
            event, bad = reader.entry(self.set_name, None, entry, seen_at, where)
            events += [event] if event is not None else []
            rejected += [bad] if bad is not None else []
            if len(events) + len(rejected) >= self.batch:
                done += len(events) + len(rejected)
                yield SourceBatch(events, {"read": done}, rejected)
                self.progress(len(events) + len(rejected))
                events, rejected = [], []
        done += len(events) + len(rejected)
        yield SourceBatch(events, {"read": done, "finished": True}, rejected)
        self.progress(len(events) + len(rejected))


class PosArchiveBackfill(Source):
    kind = "backfill_pos"

    def __init__(
        self, name: str, archive: Path, reader: Any, since: datetime, progress: Progress
    ) -> None:
        """``reader`` is a configured ``pos_drop`` source: its parsing and its events."""
        self.name, self.system, self.archive = name, reader.system, archive
        self.reader, self.since, self.progress = reader, since, progress

    def files(self) -> list[Path]:
        """Every entry but subfolders (walked, links not followed) and syncd's own rejects."""
        found, folders = [], [self.archive]
        while folders:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(Path(entry.path))
                    elif not entry.name.endswith(".rejects.csv"):
                        found.append(Path(entry.path))
        return sorted(found)

    def poll(self, cursor: Any) -> Iterator[SourceBatch]:
        finished = list((cursor or {}).get("files") or [])
        for path in self.files():
            where = path.relative_to(self.archive).as_posix()
            try:
                stream, digest = open_export(path, self.reader.limits)
            except Exception as exc:  # any at all: refused or unopenable, reported once
                if f"entry:{where}" not in finished:
                    finished.append(f"entry:{where}")
                    why = refusal(exc, opening=True)
                    yield SourceBatch([], {"files": finished}, [Rejected(where, why.reason)])
                    self.progress(1)
                continue
            with stream:
                if digest in finished:
                    continue
                events, rejected = [], []
                for item in self.reader.items(stream, path.name):
                    if isinstance(item, Unreadable):
                        subject = f"{where}:{item.line}" if item.line else where
                        rejected.append(Rejected(subject, item.reason))
                    elif isinstance(item, Receipt):  # rejected lines: the live source's business
                        at = datetime.fromisoformat(item.data["at"]).replace(tzinfo=None)
                        if at >= self.since:
                            event = self.reader.event(item, path.name)
                            events.append(replace(event, stream=self.name))  # its own stream
                finished.append(digest)
                yield SourceBatch(events, {"files": finished}, rejected)
                self.progress(1)


def run_backfill(store: Store, source: Source, owner: str) -> tuple[int, bool]:
    """Run ``source`` to its end under its own stream lease; (events stored, finished)."""
    with store.begin() as conn:
        lease = leases.acquire(conn, f"source:{source.name}", owner, ttl=3600)
    if lease is None:
        raise RuntimeError(f"another process runs the backfill {source.name}")
    try:
        run = run_source(store, source, lease)
    finally:
        with store.begin() as conn:
            leases.release(conn, lease)
    if not run.ok:
        raise RuntimeError(run.error or "the backfill failed")
    return run.new_events, True
