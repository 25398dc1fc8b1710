"""A drop folder: ``incoming/`` → ``processing/`` → ``done/``, never a file twice.

A file is *ready* when it has not changed for ``settle_seconds`` and its size
is the one seen at the previous scan — so a file still being copied in is
left alone.  Claiming is an atomic rename into ``processing/`` (two syncd
instances cannot both take it).  A finished file moves to ``done/`` with its
rejected lines beside it as ``<name>.rejects.csv`` (line; field; reason; the
line as it was).  Names starting with ``.`` or ending in ``.tmp``/``.part``
are never touched.

    folder = DropFolder(Path("/var/lib/syncd/pos/msk"), settle_seconds=5)
    for path in folder.processing() + folder.claim_ready():
        ...
        folder.finish(path, rejects)
"""

from __future__ import annotations

import csv
import hashlib
import os
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
        for folder in (self.incoming, self.work, self.done):
            folder.mkdir(parents=True, exist_ok=True)
        self._sizes: dict[str, int] = {}

    def processing(self) -> list[Path]:
        """Files claimed earlier and not finished (a restart resumes them)."""
        return sorted(p for p in self.work.iterdir() if p.is_file())

    def claim_ready(self, limit: int = 10) -> list[Path]:
        now, seen, ready = self.clock(), {}, []
        for path in sorted(self.incoming.iterdir(), key=lambda p: p.stat().st_mtime):
            if (
                not path.is_file()
                or path.name.startswith(".")
                or path.name.endswith(SKIPPED_SUFFIXES)
            ):
                continue
            stat = path.stat()
            seen[path.name] = stat.st_size
            settled = now - stat.st_mtime >= self.settle
            if settled and self._sizes.get(path.name) == stat.st_size and len(ready) < limit:
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
        target = self._free(self.done / path.name)
        if rejects:
            with (target.parent / f"{target.name}.rejects.csv").open(
                "w", encoding="utf-8", newline=""
            ) as out:
                writer = csv.writer(out, delimiter=";")
                writer.writerow(["line", "field", "reason", "original"])
                for r in rejects:
                    writer.writerow([r.line, r.field, r.reason, r.raw])
        os.replace(path, target)
        return target

    def _free(self, target: Path) -> Path:
        n = 1
        while target.exists():
            target = target.with_name(f"{target.stem}.{n}{target.suffix}")
            n += 1
        return target


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
