"""A drop folder: ``incoming/`` → ``processing/`` → ``done/`` or ``quarantine/``, never twice.

A file is *ready* when it has not changed for ``settle_seconds`` and its size
is the one seen at the previous scan — so a file still being copied in is
left alone.  Claiming is an atomic rename into ``processing/`` (two syncd
instances cannot both take it).  A finished file moves to ``done/`` with its
rejected lines beside it as ``<name>.rejects.csv`` (line; field; reason; the
line as it was); a file set aside moves to ``quarantine/`` the same way, its
reason the last line.  Names starting with ``.`` or ending in ``.tmp``/``.part``
are never touched.

Entries are looked at, never through: a symbolic link, a FIFO or a device in
``incoming/`` is claimed and moved like a file (a rename moves the link, not
its target) so that the reader can refuse it and it is set aside; a real
subdirectory is left where it is and not walked.

    folder = DropFolder(Path("/var/lib/syncd/pos/msk"), settle_seconds=5)
    for path in folder.processing() + folder.claim_ready():
        ...
        folder.finish(path, rejects)        # or folder.quarantine(path, rejects)
"""

from __future__ import annotations

import csv
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

from syncd.connectors.pos.receipts import Reject

SKIPPED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")


class DropFolder:
    def __init__(
        self, root: Path, settle_seconds: float = 5.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.root, self.settle, self.clock = root, settle_seconds, clock
        self.incoming, self.work, self.done = root / "incoming", root / "processing", root / "done"
        self.aside = root / "quarantine"
        for folder in (self.incoming, self.work, self.done, self.aside):
            folder.mkdir(parents=True, exist_ok=True)
        self._sizes: dict[str, int] = {}

    def processing(self) -> list[Path]:
        """Entries claimed earlier and not finished (a restart resumes them)."""
        return sorted(path for path, _ in _entries(self.work))

    def claim_ready(self, limit: int = 10) -> list[Path]:
        now, seen, ready = self.clock(), {}, []
        entries = [
            (path, entry)
            for path, entry in _entries(self.incoming)
            if not path.name.startswith(".") and not path.name.endswith(SKIPPED_SUFFIXES)
        ]
        for path, entry in sorted(entries, key=lambda e: e[1].st_mtime):
            seen[path.name] = entry.st_size
            settled = now - entry.st_mtime >= self.settle
            if settled and self._sizes.get(path.name) == entry.st_size and len(ready) < limit:
                target = self.work / path.name
                try:
                    os.rename(path, target)  # atomic: only one taker
                except FileNotFoundError:
                    continue
                ready.append(target)
        taken = {p.name for p in ready}
        self._sizes = {n: s for n, s in seen.items() if n not in taken}
        return ready

    def finish(self, path: Path, rejects: list[Reject]) -> Path:
        return self._move(path, self.done, rejects)

    def quarantine(self, path: Path, rejects: list[Reject]) -> Path:
        """Set aside a file that could not be read (its reason in the rejects)."""
        return self._move(path, self.aside, rejects)

    def _move(self, path: Path, folder: Path, rejects: list[Reject]) -> Path:
        target = self._free(folder / path.name)
        if rejects:
            # "x": never through an entry already there (a link planted under that name)
            with _rejects_of(target).open("x", encoding="utf-8", newline="") as out:
                writer = csv.writer(out, delimiter=";")
                writer.writerow(["line", "field", "reason", "original"])
                for r in rejects:
                    writer.writerow([r.line, r.field, r.reason, r.raw])
        os.replace(path, target)
        return target

    def _free(self, target: Path) -> Path:
        n = 1
        while os.path.lexists(target) or os.path.lexists(_rejects_of(target)):  # links too
            target = target.with_name(f"{target.stem}.{n}{target.suffix}")
            n += 1
        return target


def _rejects_of(target: Path) -> Path:
    return target.parent / f"{target.name}.rejects.csv"


def _entries(folder: Path) -> list[tuple[Path, os.stat_result]]:
    """Every entry but real subdirectories, as the entry itself is (links not followed)."""
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            try:
                status = entry.stat(follow_symlinks=False)
            except FileNotFoundError:  # gone meanwhile
                continue
            if not stat.S_ISDIR(status.st_mode):
                found.append((Path(entry.path), status))
    return found
