"""Trouble the sandbox CRM can make on purpose: 5xx, 503, HTML pages, slowness, hangs.

Shares of requests, drawn from a seeded random so a run repeats itself:

- ``server_error``: 500 or 502, answered instead of doing the work, or 504 —
  the gateway gave up waiting while the CRM went on and did the work (a
  write lands, its answer is lost);
- ``unavailable``: 503, as the rate limit answers;
- ``timeout``: the request hangs ``timeout_seconds`` (longer than a client
  waits), then ``hang_then``: ``apply`` — the work is done late, after the
  client gave up (what a real overloaded account does) — or ``drop``: never
  done.

For tests, a **hold** is a hang on a schedule instead of a draw: requests
matching a method and path are held until the test releases them, then
applied late (or dropped).  ``most_waiting`` tells how many were held at the
same time — whether a client waited on them one after another or side by side.

    app.faults = Faults(unavailable=0.2, html=True, seed=7)
    app.faults = Faults(timeout=0.02, timeout_seconds=60, hang_then="apply")
    hold = app.faults.hold("POST", r"orders/A-1/edit")   # the next such request
    ...; hold.release(); wait_until(lambda: hold.done == 1)
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

HTML_ERROR = "<html><body><h1>{code} Error</h1><p>nginx</p></body></html>"
HangThen = Literal["apply", "drop"]
Answer = tuple[int, dict | str]


@dataclass
class Fault:
    """What to do with one request: answer ``instead`` of doing the work, or do the
    work and then answer ``after`` (the work's own answer is lost)."""

    instead: Answer | None = None
    after: Answer | None = None
    hold: Hold | None = None  # told when the request is through

    def through(self) -> None:
        if self.hold is not None:
            self.hold.finished()


class Hold:
    """Matching requests wait at a gate until ``release``; then applied late or dropped."""

    def __init__(self, method: str, path: str, times: int, then: HangThen, most: float) -> None:
        self.method, self.pattern, self.times, self.then = method, re.compile(path), times, then
        self.most_seconds = most  # a forgotten hold lets go by itself
        self.gate = threading.Event()
        self.taken = 0  # requests caught
        self.waiting = 0  # held now
        self.most_waiting = 0  # held at the same time, at most
        self.done = 0  # let go (and applied, or dropped)
        self._lock = threading.Lock()

    def catches(self, method: str, path: str) -> bool:
        with self._lock:
            if self.taken >= self.times or method != self.method:
                return False
            if not self.pattern.search(path):
                return False
            self.taken += 1
            self.waiting += 1
            self.most_waiting = max(self.most_waiting, self.waiting)
            return True

    def wait(self) -> None:
        self.gate.wait(self.most_seconds)
        with self._lock:
            self.waiting -= 1

    def finished(self) -> None:
        with self._lock:
            self.done += 1

    def release(self) -> None:
        self.gate.set()


@dataclass
class Faults:
    """Injected trouble, as shares of requests (0..1), drawn from a seeded random."""

    server_error: float = 0.0  # 500 or 502 (not done), or 504 (done, answer lost)
    unavailable: float = 0.0  # 503 (as the rate limit answers)
    html: bool = False  # error bodies as nginx HTML pages instead of JSON
    slow_seconds: float = 0.0  # added to every answer
    timeout: float = 0.0  # share of requests that hang for timeout_seconds
    timeout_seconds: float = 60.0
    hang_then: HangThen = "apply"  # after a hang: the work lands late, or never
    seed: int = 1
    injected: int = 0
    holds: list[Hold] = field(default_factory=list)
    _random: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _wake: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        self._random.seed(self.seed)

    def hold(
        self,
        method: str,
        path: str,
        *,
        times: int = 1,
        then: HangThen = "apply",
        most_seconds: float = 60.0,
    ) -> Hold:
        """Hold the next ``times`` requests whose path (under ``/api/v5/``) matches ``path``."""
        hold = Hold(method, path, times, then, most_seconds)
        self.holds.append(hold)
        return hold

    def release_all(self) -> None:
        """Let every held or hanging request go on now (a test's or a run's end)."""
        self._wake.set()
        for hold in self.holds:
            hold.release()

    def roll(self, method: str = "GET", path: str = "") -> Fault | None:
        """The trouble for one request, if any (a hang or hold has waited when it returns)."""
        for hold in self.holds:
            if hold.catches(method, path):
                hold.wait()
                return _after_hang(hold.then, hold)
        if self.slow_seconds:
            time.sleep(self.slow_seconds)
        with self._lock:
            fault = self._draw()
        if fault == "hang":
            self._wake.wait(self.timeout_seconds)  # the client's read timeout fires first
            return _after_hang(self.hang_then, None)
        return fault

    def _draw(self) -> Fault | str | None:
        draw = self._random.random()
        if draw < self.timeout:
            self.injected += 1
            return "hang"
        draw -= self.timeout
        if draw < self.unavailable:
            self.injected += 1
            body = error_body("Service temporary unavailable")
            return Fault(instead=(503, HTML_ERROR.format(code=503) if self.html else body))
        draw -= self.unavailable
        if draw < self.server_error:
            self.injected += 1
            code = self._random.choice((500, 502, 504))
            body = HTML_ERROR.format(code=code) if self.html else error_body("Internal error")
            # 504: the gateway stopped waiting, the CRM did not: the work is done
            return Fault(after=(code, body)) if code == 504 else Fault(instead=(code, body))
        return None


def _after_hang(then: HangThen, hold: Hold | None) -> Fault:
    gave_up = (504, HTML_ERROR.format(code=504))  # the client is long gone: it goes nowhere
    return Fault(instead=gave_up, hold=hold) if then == "drop" else Fault(after=gave_up, hold=hold)


def error_body(message: str, errors: Any = None) -> dict:
    body: dict = {"success": False, "errorMsg": message}
    if errors:
        body["errors"] = errors
    return body
