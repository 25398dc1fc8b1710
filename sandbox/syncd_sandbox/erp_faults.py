"""Trouble the sandbox 1C can make on purpose, as a busy or failing publication does.

Shares of requests (0..1), drawn from a seeded random so a run repeats itself:

- ``unavailable``: 503 with the web server's HTML page (a 1C busy at peak, IIS
  or Apache in front of it answering for it);
- ``server_error``: 502 or 504 HTML pages (the app server restarting);
- ``hang``: the request waits ``hang_seconds`` before anything happens — the
  client's read timeout fires first, and nothing was done;
- ``late``: a write (PATCH, POST) is done, then its answer waits
  ``hang_seconds`` — the client times out not knowing the write took, the
  worst case for a retry.

``hold(seconds)`` gives every hung request back at once (a harness's end).

    app.faults = ErpFaults(unavailable=0.1, hang=0.02, late=0.01, hang_seconds=15, seed=3)
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field

PAGE = "<html><head><title>{code}</title></head><body><h1>{code}</h1></body></html>"


@dataclass
class ErpFaults:
    unavailable: float = 0.0
    server_error: float = 0.0
    hang: float = 0.0
    late: float = 0.0
    hang_seconds: float = 60.0
    seed: int = 1
    injected: Counter = field(default_factory=Counter)
    _random: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _released: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        self._random.seed(self.seed)

    def _draw(self) -> float:
        with self._lock:
            return self._random.random()

    def before(self) -> tuple[int, list, bytes] | None:
        """An answer in place of the real one (nothing done), or None to serve it."""
        draw = self._draw()
        if draw < self.hang:
            self._count("hang")
            self._released.wait(self.hang_seconds)
            return 504, [("Content-Type", "text/html")], PAGE.format(code=504).encode()
        draw -= self.hang
        if draw < self.unavailable:
            self._count("503")
            return 503, [("Content-Type", "text/html")], PAGE.format(code=503).encode()
        draw -= self.unavailable
        if draw < self.server_error:
            code = 502 if draw < self.server_error / 2 else 504
            self._count(str(code))
            return code, [("Content-Type", "text/html")], PAGE.format(code=code).encode()
        return None

    def after_write(self) -> None:
        """Once a write is done: maybe hold its answer back."""
        if self._draw() < self.late:
            self._count("late")
            self._released.wait(self.hang_seconds)

    def release(self) -> None:
        """Let every hung request go (and the ones to come hang no more)."""
        self._released.set()

    def _count(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] += 1
