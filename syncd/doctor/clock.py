"""Clock skew: how far an outside system's clock is from this host's, by its ``Date`` header.

Every HTTP answer carries ``Date``, the server's time when it answered, in
whole seconds.  So the server's clock was somewhere in ``[Date, Date + 1)``
while ours was somewhere between sending the request and reading the reply:
the skew lies in ``[Date - received, Date + 1 - sent]``.  A check fails only
when that whole interval is beyond the threshold, so a slow answer never
raises a false alarm; the figure shown is the interval's middle.

    clocks = ServerClocks(); session.hooks["response"].append(clocks.hook)
    ...                                         # requests go out
    clock_check("1C clock", clocks, 30.0, "1C")
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from syncd.doctor.result import Check


@dataclass(frozen=True)
class ServerDate:
    """One answer's ``Date`` (epoch seconds) and when, by our clock, the exchange happened."""

    date: float
    sent: float
    received: float

    @property
    def bounds(self) -> tuple[float, float]:
        """The smallest and largest skew (server minus here) consistent with this answer."""
        return self.date - self.received, self.date + 1.0 - self.sent


def parse_http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    return parsed.timestamp()


class ServerClocks:
    """Collects the ``Date`` of every answer a session receives (a requests response hook)."""

    def __init__(self, now: Any = time.time) -> None:
        self.now = now
        self._lock = threading.Lock()
        self.samples: list[ServerDate] = []

    def hook(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        date = parse_http_date(response.headers.get("Date"))
        if date is not None:
            received = self.now()
            sent = received - response.elapsed.total_seconds()
            with self._lock:
                self.samples.append(ServerDate(date, sent, received))
        return response

    def best(self) -> ServerDate | None:
        """The answer that pins the skew down most tightly (the quickest one)."""
        with self._lock:
            samples = list(self.samples)
        return min(samples, key=lambda s: s.received - s.sent, default=None)


def clock_check(name: str, clocks: ServerClocks, max_skew: float, system: str) -> Check:
    sample = clocks.best()
    if sample is None:
        return Check.skipped_because(name, f"no answer with a Date header came from {system}")
    low, high = sample.bounds
    middle = (low + high) / 2
    if low > max_skew or high < -max_skew:
        direction = "ahead of" if middle > 0 else "behind"
        return Check.failed(
            name,
            f"{system}'s clock is about {abs(middle):.0f} s {direction} this host's "
            f"(limit {max_skew:g} s)",
            f"synchronise both clocks with NTP (chrony or systemd-timesyncd here, the time "
            f"service on {system}'s server); date windows and history starts rely on them",
        )
    return Check.passed(name, f"within {max_skew:g} s of this host's (about {round(middle):+d} s)")
