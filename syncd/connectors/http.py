"""The HTTP session every connector uses, counted in ``syncd_http_requests_total``.

Each response is counted by system and status code; a request that got no
response (timeout, refused connection) is counted with code ``error``.  The
counting sits in the session, so no connector can forget it.

The environment (``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``,
``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``) is read once per host, the first
time the session calls it, not on every request as ``requests`` does by
default (that re-read was ~0.2 ms of CPU a call, a tenth of an order's cost);
``~/.netrc`` is never read: credentials come from syncd's config alone.  The
environment is the daemon's, fixed when it starts.

    session = counted_session("crm", metrics)
    session.get(url, timeout=(5, 30))
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

import requests


class CountedSession(requests.Session):
    def __init__(self, system: str, metrics: Any) -> None:
        super().__init__()
        self.system = system
        self.metrics = metrics
        self.trust_env = False  # the environment is read once per host below instead
        self._environment: dict[str, dict] = {}
        self._lock = threading.Lock()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        try:
            response = super().send(request, **kwargs)
        except requests.RequestException:
            self._count("error")
            raise
        self._count(str(response.status_code))
        return response

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        found = self._environment_for(url)
        proxies = {**found["proxies"], **(proxies or {})}
        if verify is None or verify is True:  # as requests does: a CA bundle named there wins
            verify = found["bundle"] or verify
        return super().merge_environment_settings(url, proxies, stream, verify, cert)

    def _environment_for(self, url: str) -> dict:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        found = self._environment.get(origin)
        if found is None:
            with self._lock:
                probe = requests.Session()  # trust_env: what requests would read per call
                settings = probe.merge_environment_settings(origin + "/", {}, None, None, None)
                probe.close()
                bundle = settings["verify"] if isinstance(settings["verify"], str) else None
                found = {"proxies": settings["proxies"] or {}, "bundle": bundle}
                self._environment[origin] = found
        return found

    def _count(self, code: str) -> None:
        if self.metrics is not None:
            self.metrics.http_requests.labels(self.system, code).inc()


def counted_session(system: str, metrics: Any) -> CountedSession:
    return CountedSession(system, metrics)
