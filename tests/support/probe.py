"""A test-only source that records when it runs, to prove two instances never overlap.

Loaded by the daemon through the ``plugins`` config key.  Each poll appends
``<pid> start <t>`` and ``<pid> end <t>`` to the file named in its options,
with a short pause between (a slow page), and yields one event.
"""

from __future__ import annotations

import os
import time

from pydantic import BaseModel

from syncd.engine.contracts import Source, SourceBatch
from syncd.engine.pipeline import register
from syncd.model import Event


class ProbeOptions(BaseModel):
    record: str
    pause_seconds: float = 0.2


def _note(path: str, what: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()} {what} {time.time():.6f}\n")
        fh.flush()
        os.fsync(fh.fileno())


@register
class ProbeSource(Source):
    kind = "test_probe"
    Options = ProbeOptions

    def poll(self, cursor):  # noqa: ANN001, ANN201
        n = int(cursor or 0) + 1
        _note(self.options.record, "start")
        time.sleep(self.options.pause_seconds)  # stands for a slow read from an outside system
        yield SourceBatch([Event("demo", "tick", f"T{n}", "1", {"n": n, "pid": os.getpid()})], n)
        _note(self.options.record, "end")


def intervals(path: str) -> list[tuple[int, float, float | None]]:
    """(pid, start, end) per poll; end is None for a poll that never finished."""
    open_runs: dict[int, float] = {}
    runs = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            pid, what, t = line.split()
            if what == "start":
                open_runs[int(pid)] = float(t)
            else:
                runs.append((int(pid), open_runs.pop(int(pid)), float(t)))
    runs.extend((pid, start, None) for pid, start in open_runs.items())
    return runs
