"""The HTTP session every connector uses, counted in ``syncd_http_requests_total``.

Each response is counted by system and status code; a request that got no
response (timeout, refused connection) is counted with code ``error``.  The
counting sits in the session, so no connector can forget it.

    session = counted_session("crm", metrics)
    session.get(url, timeout=(5, 30))
"""

from __future__ import annotations

from typing import Any

import requests


class CountedSession(requests.Session):
    def __init__(self, system: str, metrics: Any) -> None:
        super().__init__()
        self.system = system
        self.metrics = metrics

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        try:
            response = super().send(request, **kwargs)
        except requests.RequestException:
            self._count("error")
            raise
        self._count(str(response.status_code))
        return response

    def _count(self, code: str) -> None:
        if self.metrics is not None:
            self.metrics.http_requests.labels(self.system, code).inc()


def counted_session(system: str, metrics: Any) -> CountedSession:
    return CountedSession(system, metrics)
