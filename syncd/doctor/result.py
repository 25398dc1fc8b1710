"""What one check found, and the shared answers several checks read.

A ``Check`` is one row of ``syncd check``'s table: its name, whether it
passed, what was seen, and — when it failed — one line saying how to fix it.
A check that could not be made (its system is not used, or a check before it
failed) is ``skipped``: it does not fail the run by itself.

``Shared`` computes a value once for every check that needs it (1C's
``$metadata``, the CRM's credentials), keeping the error too, so two checks
never send the same request twice and both see the same failure.

    Check.passed("store reachable", "sqlite:////var/lib/syncd/syncd.db")
    Check.failed("store migrated", "at revision none, head 0003", "run `syncd db upgrade`")
    metadata = Shared(client.metadata); metadata.get()   # raises what the call raised
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    skipped: bool = False

    @classmethod
    def passed(cls, name: str, detail: str) -> Check:
        return cls(name, True, detail)

    @classmethod
    def failed(cls, name: str, detail: str, fix: str) -> Check:
        return cls(name, False, detail, fix)

    @classmethod
    def skipped_because(cls, name: str, reason: str) -> Check:
        return cls(name, True, reason, skipped=True)

    def renamed(self, name: str) -> Check:
        return Check(name, self.ok, self.detail, self.fix, self.skipped)


class Shared(Generic[T]):
    """A value computed at most once, by whichever thread asks first; errors are kept."""

    def __init__(self, compute: Callable[[], T]) -> None:
        self._compute = compute
        self._lock = threading.Lock()
        self._done = False
        self._value: T | None = None
        self._error: BaseException | None = None

    def get(self) -> T:
        with self._lock:
            if not self._done:
                try:
                    self._value = self._compute()
                except Exception as exc:  # noqa: BLE001 - every reader sees the same failure
                    self._error = exc
                self._done = True
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    @property
    def done(self) -> bool:
        return self._done

    def error(self) -> BaseException | None:
        """The failure, after computing if needed; None when it succeeded."""
        try:
            self.get()
        except Exception as exc:  # noqa: BLE001
            return exc
        return None
