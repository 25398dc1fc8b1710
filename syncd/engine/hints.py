"""Work hints: when the main loop may have something to plan or to claim.

The loop iterates whenever something wakes it (a source run or a write round
ending, a webhook) and at least once a tick.  Looking at the inbox and
claiming commands costs a transaction each (a claim takes SQLite's write
lock), so the loop does it when something may have come:

- the inbox, when a source run of this instance ended, or planning stopped
  with events still waiting;
- a sink's commands, when planning queued commands, or one of its write
  rounds ended (the object's next write may go, a retry may be due);

and in any case once a tick, which is how work made by another process (a
second instance, ``syncd dead-letters retry``) and retries coming due are
seen.

    hints = WorkHints(lambda: settings.engine.tick_seconds)
    if hints.inbox_due(): plan...
    hints.source_run_ended()
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable


class WorkHints:
    def __init__(self, tick: Callable[[], float]) -> None:
        self._tick = tick
        self._inbox = True
        self._inbox_looked = 0.0
        self._sinks: dict[str, bool] = {}
        self._sinks_looked: dict[str, float] = {}

    # -- the inbox -------------------------------------------------------------
    def inbox_due(self) -> bool:
        """True when the inbox is worth a look now (and counts as looked at)."""
        now = time.monotonic()
        if not self._inbox and now - self._inbox_looked < self._tick():
            return False
        self._inbox, self._inbox_looked = False, now
        return True

    def source_run_ended(self) -> None:
        self._inbox = True

    inbox_has_more = source_run_ended

    # -- the sinks ---------------------------------------------------------------
    def claims_due(self, sink: str) -> bool:
        hinted = self._sinks.get(sink, True)
        return hinted or time.monotonic() - self._sinks_looked.get(sink, 0.0) >= self._tick()

    def nothing_to_claim(self, sink: str) -> None:
        self._sinks[sink], self._sinks_looked[sink] = False, time.monotonic()

    def commands_queued(self, sinks: Iterable[str]) -> None:
        for sink in sinks:
            self._sinks[sink] = True

    def write_round_ended(self, sink: str) -> None:
        self._sinks[sink] = True
