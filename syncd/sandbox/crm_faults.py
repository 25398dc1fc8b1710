"""Trouble the sandbox CRM can make on purpose: 5xx, 503, HTML pages, slowness, hangs.

Shares of requests, drawn from a seeded random so a test run repeats itself.

    app.faults = Faults(unavailable=0.2, html=True, seed=7)
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

HTML_ERROR = "<html><body><h1>{code} Error</h1><p>nginx</p></body></html>"


@dataclass
class Faults:
    """Injected trouble, as shares of requests (0..1), drawn from a seeded random."""

    server_error: float = 0.0  # 500, 502 or 504
    unavailable: float = 0.0  # 503 (as the rate limit answers)
    html: bool = False  # error bodies as nginx HTML pages instead of JSON
    slow_seconds: float = 0.0  # added to every answer
    timeout: float = 0.0  # share of requests that hang for timeout_seconds
    timeout_seconds: float = 60.0
    seed: int = 1
    injected: int = 0
    _random: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self._random.seed(self.seed)

    def roll(self) -> tuple[int, dict | str] | None:
        if self.slow_seconds:
            time.sleep(self.slow_seconds)
        draw = self._random.random()
        if draw < self.timeout:
            self.injected += 1
            time.sleep(self.timeout_seconds)  # the client's read timeout fires first
            return None
        draw -= self.timeout
        if draw < self.unavailable:
            self.injected += 1
            return 503, (
                HTML_ERROR.format(code=503)
                if self.html
                else error_body("Service temporary unavailable")
            )
        draw -= self.unavailable
        if draw < self.server_error:
            self.injected += 1
            code = self._random.choice((500, 502, 504))
            return code, HTML_ERROR.format(code=code) if self.html else error_body("Internal error")
        return None


def error_body(message: str, errors: Any = None) -> dict:
    body: dict = {"success": False, "errorMsg": message}
    if errors:
        body["errors"] = errors
    return body
