"""The wall clock retention reads, which benchmarks and tests may move forward.

``now()`` is ``time.time()`` plus an offset in seconds read from the file the
environment variable ``SYNCD_CLOCK_OFFSET_FILE`` names (a float as text, e.g.
``604800`` for a week ahead).  The file is read again at most once a second,
so a benchmark can advance the clock of a running daemon by days without
waiting for them.  Without the variable the offset is 0; a missing or
unreadable file, or one that does not hold a number, also means 0, with one
warning.

The retention cutoffs (``syncd/store/retention.py``) and timer firing
(``syncd/engine/timer_firing.py``: a test moves a running daemon three hours
ahead to see the call chain's timer fire) use this clock: the offset exists
for the soak benchmark and for tests, never for production.  Leases, claims
and event times keep using the real clock.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

OFFSET_FILE_ENV = "SYNCD_CLOCK_OFFSET_FILE"
REREAD_SECONDS = 1.0

_lock = threading.Lock()
_cached: tuple[str, float, float] | None = None  # (file, monotonic time read, offset)
_warned: set[tuple[str, str]] = set()


def now() -> float:
    """Epoch seconds: the real time plus the offset from ``$SYNCD_CLOCK_OFFSET_FILE``."""
    return time.time() + offset()


def offset() -> float:
    """The current offset in seconds (0 unless ``$SYNCD_CLOCK_OFFSET_FILE`` says otherwise)."""
    global _cached
    path = os.environ.get(OFFSET_FILE_ENV)
    if not path:
        return 0.0
    with _lock:
        read_at = time.monotonic()
        if _cached is not None and _cached[0] == path and read_at - _cached[1] < REREAD_SECONDS:
            return _cached[2]
        value = _read(path)
        _cached = (path, read_at, value)
        return value


def forget() -> None:
    """Read the file again at the next ``now()`` (tests that rewrite it)."""
    global _cached
    with _lock:
        _cached = None


def _read(path: str) -> float:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        _warn_once(path, "unreadable", f"cannot read it ({type(exc).__name__})")
        return 0.0
    try:
        value = float(text.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        _warn_once(path, "garbage", "it does not hold a number of seconds")
        return 0.0
    return value


def _warn_once(path: str, problem: str, why: str) -> None:
    if (path, problem) in _warned:
        return
    _warned.add((path, problem))
    log.warning("clock offset file %s: %s; the offset is 0 (%s)", path, why, OFFSET_FILE_ENV)
