"""Client-side pacing: at most N requests per second per account, across threads.

RetailCRM allows 10 requests/s and answers 503 above it; no Retry-After is
sent.  Every client of one account shares one ``Pacer`` (``pacer_for(url)``),
which hands out send times at least 1/N s apart, so the limit holds whatever
the number of threads.

    pacer = pacer_for("https://shop.retailcrm.ru", per_second=10)
    pacer.wait()          # before each request
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pacer:
    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.interval = 1.0 / per_second
        self.clock = clock
        self.sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until this caller's turn; returns how long it waited."""
        with self._lock:
            now = self.clock()
            at = max(now, self._next)
            self._next = at + self.interval
        delay = at - now
        if delay > 0:
            self.sleep(delay)
        return delay


_pacers: dict[str, Pacer] = {}
_pacers_lock = threading.Lock()


def pacer_for(account_url: str, per_second: float) -> Pacer:
    """The one pacer of an account (keyed by its URL) in this process."""
    key = account_url.rstrip("/").lower()
    with _pacers_lock:
        pacer = _pacers.get(key)
        if pacer is None or abs(pacer.interval - 1.0 / per_second) > 1e-9:
            pacer = _pacers[key] = Pacer(per_second)
        return pacer
