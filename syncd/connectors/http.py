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

A plain request (a printable ASCII URL that carries its own query, a JSON or
form body or none, the session's basic auth or none, no cookie ever set) is
prepared directly instead of through ``requests.Request`` and the session's
merging: the same headers, body and auth, a tenth of the CPU (~0.4 ms a call,
more than the rest of ``requests`` together).  Anything else, a cookie a server
set included, takes ``requests``' own way.

    session = counted_session("crm", metrics)
    session.get(url, timeout=(5, 30))
"""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.auth import HTTPBasicAuth
from requests.cookies import RequestsCookieJar
from requests.hooks import default_hooks
from requests.structures import CaseInsensitiveDict

# nothing for requests to quote, encode or add: what syncd's connectors build (RFC 3986's
# characters only, a host and a path)
PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.:\[\]-]+/[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]*\Z")


class CountedSession(requests.Session):
    def __init__(self, system: str, metrics: Any) -> None:
        super().__init__()
        self.system = system
        self.metrics = metrics
        self.trust_env = False  # the environment is read once per host below instead
        self._environment: dict[str, dict] = {}
        self._lock = threading.Lock()

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        cookies: Any = None,
        files: Any = None,
        auth: Any = None,
        timeout: Any = None,
        allow_redirects: bool = True,
        proxies: Any = None,
        hooks: Any = None,
        stream: Any = None,
        verify: Any = None,
        cert: Any = None,
        json: Any = None,
    ) -> requests.Response:
        plain = not (params or cookies or files or auth or hooks or self.params or self.cookies)
        prepared = None
        if plain and isinstance(url, str) and PLAIN_URL.match(url):
            prepared = self._prepared(method, url, data, headers, json)
        if prepared is None:
            return super().request(
                method, url, params, data, headers, cookies, files, auth, timeout,
                allow_redirects, proxies, hooks, stream, verify, cert, json,
            )  # fmt: skip
        settings = self.merge_environment_settings(url, proxies or {}, stream, verify, cert)
        return self.send(prepared, timeout=timeout, allow_redirects=allow_redirects, **settings)

    def _prepared(
        self, method: str, url: str, data: Any, headers: Any, json: Any
    ) -> requests.PreparedRequest | None:
        """What ``prepare_request`` would make of a plain request; None if not plain."""
        if self.auth is not None and not isinstance(self.auth, tuple):
            return None
        if self.hooks.get("response"):
            return None
        merged = CaseInsensitiveDict(self.headers)
        merged.update(headers or {})
        for name in [k for k, v in merged.items() if v is None]:
            del merged[name]
        prepared = requests.PreparedRequest()
        prepared.method = method.upper()
        prepared.url = url
        prepared.headers = merged
        prepared._cookies = RequestsCookieJar()  # a redirect's cookies land here
        prepared.hooks = default_hooks()
        prepared.prepare_body(data or {}, None, json)
        if self.auth is not None:
            prepared = HTTPBasicAuth(*self.auth)(prepared)
        return prepared

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
