"""The 1C OData client: gentle reads, typed errors, paging by the full key.

- Basic auth with UTF-8 credentials (cp1251 logins get IIS 401.5);
- at most ``max_concurrency`` requests in flight and ``per_second`` per base,
  shared by every thread, so a busy season never lands on the ERP through us;
- an HTML page where OData was expected is an error, even with status 200;
- 5xx (except 500/-1 business refusals), timeouts and connection errors are
  retried with backoff (tenacity);
- paging with ``$orderby`` on the full key plus ``$skip``/``$top`` (never with
  ``$inlinecount``, which makes 1C ignore both); the page size shrinks when
  pages grow heavy (documents with big tabular sections) and grows back.

    erp = ODataClient("https://erp/ut11/odata/standard.odata", "Обмен", password)
    meta = erp.metadata()
    for order in erp.entities("Document_ЗаказКлиента", meta, filter=eq("Posted", True)):
        ...
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import requests

from syncd.connectors.http import counted_session
from syncd.connectors.onec.errors import ErpUnavailable, error_for
from syncd.connectors.onec.metadata import Metadata
from syncd.connectors.onec.values import query
from syncd.connectors.pacing import Pacer
from syncd.engine.retry import retrying_calls

RETRYABLE = (ErpUnavailable, requests.ConnectionError, requests.Timeout)


class ODataClient:
    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        *,
        max_concurrency: int = 2,
        per_second: float = 5.0,
        timeout: tuple[float, float] = (10.0, 120.0),
        attempts: int = 5,
        page_size: int = 200,
        page_bytes: int = 4_000_000,
        metrics: Any = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base = base_url.rstrip("/") + "/"
        self.session = counted_session("erp", metrics)
        # requests encodes str credentials as latin-1; 1C wants UTF-8
        self.session.auth = (user.encode("utf-8"), password.encode("utf-8"))
        self.timeout = timeout
        self.gate = threading.BoundedSemaphore(max_concurrency)
        self.pacer = Pacer(per_second, sleep=sleep)
        self.page_size = page_size
        self.page_bytes = page_bytes
        self.calls = 0
        self._metadata: Metadata | None = None
        self._retrying = retrying_calls(
            RETRYABLE, attempts=attempts, initial=0.5, maximum=60, jitter=0.5, sleep=sleep
        )

    # -- requests --------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        options: dict | None = None,
        json_body: Any = None,
        *,
        accept: str = "application/json",
        retry: bool = True,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """One call; transient failures retried unless ``retry=False`` (non-idempotent)."""
        headers = {"Accept": accept, **(headers or {})}
        if not retry:
            return self._once(method, path, options or {}, json_body, headers)
        return self._retrying(self._once, method, path, options or {}, json_body, headers)

    def _once(
        self, method: str, path: str, options: dict, json_body: Any, headers: dict[str, str]
    ) -> requests.Response:
        url = self.base + quote(path, safe="()'=,/$") + (("?" + query(options)) if options else "")
        self.pacer.wait()
        with self.gate:
            self.calls += 1
            response = self.session.request(
                method, url, json=json_body, timeout=self.timeout, headers=headers
            )
        content_type = response.headers.get("Content-Type", "")
        if response.status_code < 400 and "html" not in content_type:
            return response
        try:
            body = response.json()
        except ValueError:
            body = None
        raise error_for(response.status_code, body, content_type)

    def get_json(self, path: str, options: dict | None = None) -> Any:
        response = self.request("GET", path, {**(options or {}), "$format": "json"})
        try:
            return response.json()
        except ValueError:
            raise ErpUnavailable(response.status_code, None, "reply is not JSON") from None

    def get_entity(self, set_name: str, path: str) -> dict:
        """One object read by its key path, typed by ``$metadata`` (``BadValue`` if it
        does not type): what every decision about 1C's current state reads."""
        return self.metadata().entity(set_name).normalize(self.get_json(path))

    # -- metadata and reads ----------------------------------------------------
    def metadata(self, refresh: bool = False) -> Metadata:
        """The publication's ``$metadata``, parsed once and cached."""
        if self._metadata is None or refresh:
            self._metadata = Metadata.parse(self.request("GET", "$metadata").content)
        return self._metadata

    def forget_metadata(self) -> None:
        """The next ``metadata()`` reads it again (after a reload: 1C may have changed)."""
        self._metadata = None

    def entities(
        self, set_name: str, meta: Metadata, *, filter: str | None = None, select: str | None = None
    ) -> Iterator[dict]:
        """Every entry of ``set_name``: ordered by its full key, paged by $skip/$top."""
        key = meta.entity(set_name).key
        skip, size = 0, self.page_size
        while True:
            response = self.request(
                "GET",
                set_name,
                {
                    "$format": "json",
                    "$filter": filter,
                    "$select": select,
                    "$orderby": ",".join(key),
                    "$skip": skip,
                    "$top": size,
                },
            )
            rows = response.json().get("value", [])
            yield from rows
            if len(rows) < size:
                return
            skip += len(rows)
            size = self._next_size(size, len(response.content))

    def _next_size(self, size: int, page_bytes: int) -> int:
        """Halve heavy pages, grow light ones back towards the configured size."""
        if page_bytes > self.page_bytes:
            return max(1, size // 2)
        if page_bytes < self.page_bytes // 4:
            return min(self.page_size, size * 2)
        return size
