"""Timer firing: the main loop turns due timers into inbox events, once a second.

Any instance may fire: a timer leaves ``pending`` in the transaction that
stores its event (``syncd.store.timers.fire_due``), so two instances firing
at once never fire one timer twice, and a stopped daemon fires its overdue
timers at its next start.  Time is ``syncd.clock.now`` (the real clock; tests
and benchmarks move it forward with ``SYNCD_CLOCK_OFFSET_FILE``).  A dry run
fires nothing.

    firing = TimerFiring(store)
    if firing.tick():            # timers fired: their events wait in the inbox
        hints.inbox_has_more()
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from syncd import clock
from syncd.store import Store, timers

log = logging.getLogger(__name__)
BATCH = 100  # timers fired per transaction


class TimerFiring:
    def __init__(
        self,
        store: Store,
        now: Callable[[], float] = clock.now,
        every_seconds: float = 1.0,
        enabled: bool = True,
    ) -> None:
        self.store, self.now, self.every, self.enabled = store, now, every_seconds, enabled
        self._looked = float("-inf")

    def tick(self, *, force: bool = False) -> int:
        """Fire what is due (at most once per ``every_seconds`` unless ``force``)."""
        if not self.enabled:
            return 0
        started = time.monotonic()
        if not force and started - self._looked < self.every:
            return 0
        self._looked = started
        fired_total = 0
        while True:
            with self.store.begin() as conn:
                fired = timers.fire_due(conn, self.now(), limit=BATCH)
            for event in fired:
                log.info(
                    "timer %s fired (%s, due %.0f s ago)",
                    event.external_id,
                    event.payload.get("subject"),
                    max(0.0, self.now() - float(event.payload.get("due_at") or 0)),
                )
            fired_total += len(fired)
            if len(fired) < BATCH:  # a short batch: nothing more is due
                return fired_total
