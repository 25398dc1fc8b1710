"""When each stream polls next: every ``interval_seconds``, or sooner for a webhook.

A webhook asks its stream to poll at once, but no sooner than
``engine.webhook_gap_seconds`` after that stream's previous poll began: a burst
of webhooks is read by one poll.  Times are wall-clock epoch seconds.

    schedule = StreamSchedule(lambda: settings.engine.webhook_gap_seconds)
    if schedule.due("erp_changes", time.time()):
        schedule.started("erp_changes", interval=30, now=time.time())
    schedule.nudge("erp_changes")                          # a webhook came
    schedule.seconds_to_next(["erp_changes"], 1.0, time.time())
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


class StreamSchedule:
    def __init__(self, webhook_gap: Callable[[], float]) -> None:
        self._gap = webhook_gap
        self.next_run: dict[str, float] = {}  # a stream never polled is due at once
        self.last_start: dict[str, float] = {}  # when each stream's last poll began

    def due(self, stream: str, now: float) -> bool:
        return now >= self.next_run.get(stream, 0.0)

    def started(self, stream: str, interval: float, now: float) -> None:
        self.last_start[stream] = now
        self.next_run[stream] = now + interval

    def nudge(self, stream: str) -> None:
        """Poll ``stream`` at once, or webhook_gap seconds after its last poll began."""
        last = self.last_start.get(stream)
        soonest = 0.0 if last is None else last + self._gap()
        self.next_run[stream] = min(self.next_run.get(stream, soonest), soonest)

    def seconds_to_next(self, idle: Iterable[str], longest: float, now: float) -> float:
        """Seconds until one of the ``idle`` streams is due again (at most ``longest``)."""
        due = [longest, *(self.next_run[n] - now for n in idle if n in self.next_run)]
        return max(0.0, min(due))
