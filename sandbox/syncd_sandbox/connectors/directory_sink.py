"""A sink that keeps one JSON file per object in a folder: ``<entity>/<key>.json``.

Upserts replace the file atomically (write a temporary file, fsync, rename),
so applying the same command twice leaves the same file: the sink is
idempotent by key.  Every real write is also appended to ``writes.jsonl``, so
tests and the demo can count outbound writes.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from syncd.engine.contracts import Result, Sink
from syncd.engine.pipeline import register
from syncd.model import Command

SAFE = re.compile(r"[^A-Za-z0-9._-]")


class DirectoryOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(description="the folder to write into (relative to the config file)")
    reject_keys: list[str] = Field(
        default_factory=list, description="keys refused as invalid (to demonstrate dead letters)"
    )


@register
class DirectorySink(Sink):
    kind = "directory"
    Options = DirectoryOptions
    batch_size = 100

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.root = self.context.settings.resolve_path(self.options.path)
        self.root.mkdir(parents=True, exist_ok=True)
        self._journal_lock = threading.Lock()

    def file_for(self, entity: str, key: str) -> Path:
        return self.root / SAFE.sub("_", entity) / f"{SAFE.sub('_', key)}.json"

    def apply(self, commands: list[Command]) -> list[Result]:
        results = []
        for cmd in commands:
            if cmd.key in self.options.reject_keys:
                results.append(Result.failed(cmd, f"{cmd.object_key}: key refused", permanent=True))
                continue
            if cmd.action not in ("upsert", "delete"):
                results.append(Result.failed(cmd, f"unknown action {cmd.action!r}", permanent=True))
                continue
            self._write(cmd)
            results.append(Result.applied(cmd))
        return results

    def _write(self, cmd: Command) -> None:
        path = self.file_for(cmd.entity, cmd.key)
        if cmd.action == "delete":
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}.{threading.get_ident()}")
            with tmp.open("w", encoding="utf-8") as fh:
                json.dump(cmd.payload, fh, ensure_ascii=False, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        line = json.dumps({"object": cmd.object_key, "action": cmd.action, "command": cmd.id})
        with self._journal_lock, (self.root / "writes.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())
