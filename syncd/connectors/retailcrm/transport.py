"""How syncd speaks to RetailCRM API v5: one paced, retrying, counted HTTP session.

- auth by the ``X-API-KEY`` header (never in the URL, so never in a log line);
- GET parameters in PHP bracket form (``filter[ids][]=1&filter[ids][]=2``);
- POST bodies form-encoded, entities as JSON strings (``order={…}``);
- every request waits its turn in the account's one pacer, which runs at the
  lowest rate any live part asks for (``pacing``); ``close`` withdraws this
  transport's ask;
- each call waits as long as its kind deserves (``timeouts``: reads, one-object
  writes, batch uploads), not one long timeout for all;
- 503, 429, other 5xx, timeouts and connection errors of reads are retried
  with exponential backoff and jitter (tenacity); 4xx never are.  A write
  (POST) that got no answer — a read timeout, a connection dropped after the
  request went out, a 504 from the gateway — may still be applied by the CRM,
  so it is **not** re-sent here: it raises ``CrmNoAnswer`` and the sink
  re-reads the object before it writes again (``late_writes``).  A write that
  surely never left (connection refused, connect timeout) is retried;
- ``within(deadline)`` gives a view of the transport that starts no call and
  no retry past a sink round's deadline (``syncd.connectors.rounds``);
- the envelope is checked and failures raised as typed errors (``errors``).

    crm = CrmTransport("https://shop.retailcrm.ru", api_key, site="main")
    crm.get("orders", {"filter": {"ids": [1, 2]}, "limit": 100})
    crm.post("orders/upload", {"orders": [...], "site": "main"})
    crm.within(Deadline.after(30)).post("orders/A-1/edit", {"order": {...}})
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import requests
import tenacity
from urllib3.exceptions import NewConnectionError

from syncd.connectors.http import counted_session
from syncd.connectors.pacing import Pacer, ask_rate
from syncd.connectors.retailcrm.errors import (
    CrmError,
    CrmNoAnswer,
    CrmRateLimited,
    CrmServerError,
    error_for,
)
from syncd.connectors.retailcrm.timeouts import CrmTimeouts
from syncd.connectors.rounds import Deadline, note_write
from syncd.engine.retry import retrying_calls

log = logging.getLogger(__name__)

RETRYABLE = (CrmRateLimited, CrmServerError, requests.ConnectionError, requests.Timeout)


def bracket_params(params: dict[str, Any]) -> list[tuple[str, str]]:
    """Flatten nested dicts and lists into PHP bracket pairs, in a stable order."""
    pairs: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}[{key}]", item)
        elif isinstance(value, list | tuple | set):
            for item in value:
                walk(f"{prefix}[]", item)
        elif isinstance(value, bool):
            pairs.append((prefix, "1" if value else "0"))
        else:
            pairs.append((prefix, str(value)))

    for key, value in params.items():
        walk(key, value)
    return pairs


def form_fields(fields: dict[str, Any]) -> dict[str, str]:
    """Scalars as they are; entities (dicts, lists) as JSON strings."""
    return {
        key: json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)
        for key, value in fields.items()
        if value is not None
    }


def never_sent(exc: BaseException) -> bool:
    """The request surely did not reach the CRM: refused, or no connection in time."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.Timeout):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return isinstance(reason, NewConnectionError)
    return False


class CallStats:
    """Counters shared by a transport and its deadline-bound views."""

    def __init__(self) -> None:
        self.calls = 0
        self.rate_limited = 0
        self.no_answer = 0
        self._lock = threading.Lock()

    def add(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)


class _PastDeadline(tenacity.stop.stop_base):
    """Stop retrying when the next attempt would come after the deadline."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        pause = retry_state.upcoming_sleep or 0.0
        return self.deadline.clock() + pause >= self.deadline.at


class CrmTransport:
    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        site: str | None = None,
        per_second: float = 10.0,
        owner: str | None = None,
        timeout: tuple[float, float] | None = None,
        timeouts: CrmTimeouts | None = None,
        attempts: int = 6,
        backoff_initial: float = 0.2,
        backoff_max: float = 10.0,
        metrics: Any = None,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base = url.rstrip("/") + "/api/v5/"
        self.site = site
        self.timeout = timeout  # one (connect, read) for every call, when given (syncd check)
        self.timeouts = timeouts or CrmTimeouts()
        self.deadline: Deadline | None = None
        self.attempts = attempts
        if pacer is None:
            # Ask the account's budget for our rate, under the part's name so that a
            # rebuilt part replaces its own ask; withdrawn on close (or when collected).
            ask = ask_rate(url, owner or f"transport #{id(self)}", per_second)
            pacer = ask.pacer
            self._withdraw = weakref.finalize(self, ask.withdraw)
        else:
            self._withdraw = weakref.finalize(self, lambda: None)
        self.pacer = pacer
        self.session = counted_session("crm", metrics)
        self.session.headers["X-API-KEY"] = api_key
        self.session.headers["Accept"] = "application/json"
        self.stats = CallStats()
        self._retrying = retrying_calls(
            RETRYABLE,
            attempts=attempts,
            initial=backoff_initial,
            maximum=backoff_max,
            jitter=backoff_initial,
            sleep=sleep,
            before_sleep=self._log_retry,
        )

    def close(self) -> None:
        """Give back this transport's share of the account's rate and its connections."""
        self._withdraw()
        self.session.close()

    @property
    def calls(self) -> int:
        return self.stats.calls

    @property
    def rate_limited(self) -> int:
        return self.stats.rate_limited

    def within(self, deadline: Deadline) -> CrmTransport:
        """This transport (same session, pacer and counters), starting no call or
        retry once ``deadline`` has passed: ``DeadlinePassed`` instead."""
        bounded = copy.copy(self)
        bounded.deadline = deadline
        stop = tenacity.stop_after_attempt(self.attempts) | _PastDeadline(deadline)
        bounded._retrying = self._retrying.copy(stop=stop)
        return bounded

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict:
        return self._retrying(self._once, "GET", path, bracket_params(params or {}), None)

    def post(self, path: str, fields: dict[str, Any]) -> dict:
        return self._retrying(self._once, "POST", path, None, form_fields(fields))

    def _once(self, method: str, path: str, params: Any, data: Any) -> dict:
        if self.deadline is not None:
            self.deadline.check(f"{method} {path}")
        self.pacer.wait()
        if self.deadline is not None:
            self.deadline.check(f"{method} {path}")  # the turn came too late
        timeout = self.timeout or self.timeouts.for_call(method, path)
        self.stats.add("calls")
        if method != "GET":
            note_write()
        try:
            response = self.session.request(
                method, self.base + path, params=params, data=data, timeout=timeout
            )
        except requests.RequestException as exc:
            if method == "GET" or never_sent(exc):
                raise  # a read, or a write that never left: safe to ask again
            self.stats.add("no_answer")
            raise CrmNoAnswer(method, path, _no_answer(exc, timeout), maybe_applied=True) from None
        if method != "GET" and response.status_code == 504:
            self.stats.add("no_answer")
            why = "504 from the gateway (the CRM may go on with it)"
            raise CrmNoAnswer(method, path, why, maybe_applied=True)
        content_type = response.headers.get("Content-Type", "")
        try:
            body = response.json()
        except ValueError:
            body = None
        ok = response.status_code in (200, 201)
        if ok and isinstance(body, dict) and body.get("success", True) is not False:
            return body
        error = error_for(response.status_code if not ok else 400, body, content_type)
        if isinstance(error, CrmRateLimited):
            self.stats.add("rate_limited")
        raise error

    @staticmethod
    def _log_retry(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        method, path = state.args[0], state.args[1]
        log.warning(
            "RetailCRM %s %s failed (attempt %d), retrying: %s",
            method,
            path,
            state.attempt_number,
            _describe(exc),
        )


def _no_answer(exc: BaseException, timeout: tuple[float, float]) -> str:
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout[1]:g} s"
    return "the connection dropped before the answer"


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, CrmError):
        return str(exc)
    return type(exc).__name__ if exc else "unknown"
