"""Polling by a date window: the bookkeeping both date-polled 1C sources share.

A poll reads entries dated from ``newest seen − overlap`` (first poll: the
last ``first_lookback`` seconds; with ``revisit``, never less than the last
``revisit`` seconds).  The cursor keeps the newest date seen and, for the
entries inside the next window, the hash of their content — an entry is
news only when it is new or its content changed (1C bumps ``DataVersion``
even on a no-op write).

    run = DateWindow(overlap=600, first_lookback=86400).run(cursor, now)
    for entry in read(since=run.start):
        if run.saw(entry_id, content_hash(entry), entry_date): ...emit...
    run.cursor()   # {"high": …, "seen": {…}}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

DATE = "%Y-%m-%dT%H:%M:%S"


@dataclass(frozen=True)
class DateWindow:
    overlap: float
    first_lookback: float
    revisit: float = 0.0

    def start(self, high: str | None, now: datetime) -> datetime:
        if high is None:
            return now - timedelta(seconds=self.first_lookback)
        start = datetime.strptime(high, DATE) - timedelta(seconds=self.overlap)
        if self.revisit:
            start = min(start, now - timedelta(seconds=self.revisit))
        return start

    def run(self, cursor: Any, now: datetime) -> WindowRun:
        return WindowRun(self, dict(cursor or {}), now)


class WindowRun:
    """One poll's pass over the window."""

    def __init__(self, window: DateWindow, state: dict, now: datetime) -> None:
        self.window, self.now = window, now
        self.newest: str | None = state.get("high")
        self.seen: dict[str, str] = dict(state.get("seen") or {})
        self.start = window.start(self.newest, now)
        self.found: dict[str, tuple[str, str]] = {}

    def saw(self, ident: str, digest: str, stamp: str) -> bool:
        """Note an entry; True when it is news (new, or its content changed)."""
        stamp = stamp[:19]
        self.found[ident] = (digest, stamp)
        if stamp and (self.newest is None or stamp > self.newest):
            self.newest = min(stamp, self.now.strftime(DATE))
        return self.seen.get(ident) != digest

    def cursor(self) -> dict:
        """The newest date, and the hashes of what the next window will read again."""
        keep_from = self.window.start(self.newest, self.now).strftime(DATE)
        kept = {k: d for k, (d, stamp) in self.found.items() if stamp >= keep_from}
        return {"high": self.newest, "seen": kept}
