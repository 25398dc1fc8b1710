"""When to try a failed write again: exponential backoff with jitter.

The wait strategy is tenacity's; the engine stores the next attempt time in
the outbox instead of sleeping, so a retry survives a restart and does not
hold a worker.

    policy = RetryPolicy(max_attempts=8, initial=2, maximum=600, jitter=2)
    policy.delay(3)          # ~8 s plus up to 2 s of jitter
    policy.exhausted(8)      # True: the 8th failure goes to dead letters
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import tenacity


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    initial: float = 2.0
    maximum: float = 600.0
    jitter: float = 2.0

    @classmethod
    def from_settings(cls, retry) -> RetryPolicy:  # noqa: ANN001 - config.RetrySettings
        return cls(
            retry.max_attempts, retry.initial_seconds, retry.max_seconds, retry.jitter_seconds
        )

    @property
    def _wait(self) -> tenacity.wait.wait_base:
        return backoff(self.initial, self.maximum, self.jitter)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        state = tenacity.RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
        state.attempt_number = max(1, attempt)
        return min(float(self._wait(state)), self.maximum + self.jitter)

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts


def backoff(initial: float, maximum: float, jitter: float) -> tenacity.wait.wait_base:
    """Exponential backoff (initial × 2^(n-1), capped) plus up to ``jitter`` at random."""
    return tenacity.wait_exponential(multiplier=initial, max=maximum) + tenacity.wait_random(
        0, jitter
    )


def retrying_calls(
    retryable: tuple[type[BaseException], ...],
    *,
    attempts: int,
    initial: float,
    maximum: float,
    jitter: float,
    sleep: Callable[[float], None],
    before_sleep: Callable[[tenacity.RetryCallState], None] | None = None,
) -> tenacity.Retrying:
    """In-process retries of one outside call (connectors), on ``retryable`` errors only."""
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(retryable),
        wait=backoff(initial, maximum, jitter),
        stop=tenacity.stop_after_attempt(attempts),
        sleep=sleep,
        reraise=True,
        before_sleep=before_sleep,
    )
