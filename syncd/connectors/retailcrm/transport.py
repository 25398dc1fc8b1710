"""How syncd speaks to RetailCRM API v5: one paced, retrying, counted HTTP session.

- auth by the ``X-API-KEY`` header (never in the URL, so never in a log line);
- GET parameters in PHP bracket form (``filter[ids][]=1&filter[ids][]=2``);
- POST bodies form-encoded, entities as JSON strings (``order={…}``);
- every request waits its turn in the account's one pacer, which runs at the
  lowest rate any live part asks for (``pacing``); ``close`` withdraws this
  transport's ask;
- 503, 429, other 5xx, timeouts and connection errors are retried with
  exponential backoff and jitter (tenacity); 4xx never are;
- the envelope is checked and failures raised as typed errors (``errors``).

    crm = CrmTransport("https://shop.retailcrm.ru", api_key, site="main")
    crm.get("orders", {"filter": {"ids": [1, 2]}, "limit": 100})
    crm.post("orders/upload", {"orders": [...], "site": "main"})
"""

from __future__ import annotations

import json
import logging
import time
import weakref
from collections.abc import Callable
from typing import Any

import requests
import tenacity

from syncd.connectors.http import counted_session
from syncd.connectors.pacing import Pacer, ask_rate
from syncd.connectors.retailcrm.errors import (
    CrmError,
    CrmRateLimited,
    CrmServerError,
    error_for,
)
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


class CrmTransport:
    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        site: str | None = None,
        per_second: float = 10.0,
        owner: str | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        attempts: int = 6,
        backoff_initial: float = 0.2,
        backoff_max: float = 10.0,
        metrics: Any = None,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base = url.rstrip("/") + "/api/v5/"
        self.site = site
        self.timeout = timeout
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
        self.calls = 0
        self.rate_limited = 0
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

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict:
        return self._retrying(self._once, "GET", path, bracket_params(params or {}), None)

    def post(self, path: str, fields: dict[str, Any]) -> dict:
        return self._retrying(self._once, "POST", path, None, form_fields(fields))

    def _once(self, method: str, path: str, params: Any, data: Any) -> dict:
        self.pacer.wait()
        self.calls += 1
        response = self.session.request(
            method, self.base + path, params=params, data=data, timeout=self.timeout
        )
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
            self.rate_limited += 1
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


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, CrmError):
        return str(exc)
    return type(exc).__name__ if exc else "unknown"
