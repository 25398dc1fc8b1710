"""One WSGI app for metrics, health and webhooks, served by waitress.

Routes: ``GET /metrics`` (Prometheus text), ``GET /healthz`` (the process
answers), ``GET /readyz`` (the engine's own readiness check) and the
``POST /webhooks/…`` routes connectors register.  A webhook is authenticated
before its handler runs — a shared-secret token header, or an HMAC-SHA256 of
the raw body, compared in constant time — otherwise it gets 401 and nothing is
stored.  With no secret configured every webhook is refused.  Bodies are capped
in size, and a JSON body nested deeper than ``webhook_bodies.MAX_DEPTH`` is a
400 before any handler parses it: no body, however odd, is a 500.

    app = WebApp(registry=metrics.registry, readiness=engine.readiness,
                 webhook_secret=lambda: current_secret)   # str | None, read per request
    app.add_webhook("/webhooks/1c", handler)     # handler(request) -> (202, {...})
    server = HttpServer(app, "127.0.0.1:8787")
    server.start(); ...; server.stop()
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from syncd.webhook_bodies import depth_problem, load_json, looks_like_json

log = logging.getLogger(__name__)

_DIGITS = re.compile(r"[0-9]+")
_KNOWN = {s.value for s in HTTPStatus}
_Response = tuple[int, list[tuple[str, str]], bytes]


@dataclass(frozen=True)
class WebhookRequest:
    """An authenticated webhook call, as its handler sees it."""

    path: str
    body: bytes
    headers: Mapping[str, str]  # lower-case names
    query: Mapping[str, list[str]]
    remote_addr: str

    def form(self) -> dict[str, list[str]]:
        """The body parsed as application/x-www-form-urlencoded."""
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)

    def json(self) -> Any:
        """The body parsed as JSON; ValueError when it is empty, not JSON or nested too deep."""
        return load_json(self.body)


Handler = Callable[[WebhookRequest], tuple[int, dict]]


@dataclass(frozen=True)
class _Route:
    handler: Handler
    allow_query_token: bool


class WebApp:
    """The WSGI application; webhooks are added by the connectors that own them."""

    def __init__(
        self,
        *,
        registry: CollectorRegistry,
        readiness: Callable[[], tuple[bool, dict]],
        webhook_secret: Callable[[], str | None],
        max_body_bytes: int = 1_048_576,
    ) -> None:
        if max_body_bytes < 0:
            raise ValueError("max_body_bytes must not be negative")
        self.registry = registry
        self.readiness = readiness
        # A callable, read on every request, so a config reload takes effect at once.
        self.webhook_secret = webhook_secret
        self.max_body_bytes = max_body_bytes
        self._routes: dict[str, _Route] = {}
        self._lock = threading.Lock()
        self._warned_no_secret = False

    def add_webhook(self, path: str, handler: Handler, *, allow_query_token: bool = False) -> None:
        """Serve ``POST path`` with ``handler``; ``allow_query_token`` admits ``?token=``."""
        if not path.startswith("/webhooks/") or path == "/webhooks/":
            raise ValueError(f"webhook paths start with /webhooks/, got {path!r}")
        with self._lock:
            if path in self._routes:
                raise ValueError(f"webhook {path} is already registered")
            # Copy-on-write: request threads read the dict without the lock.
            self._routes = {**self._routes, path: _Route(handler, allow_query_token)}

    # -- WSGI ------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        try:
            status, headers, body = self._dispatch(path, method, environ)
        except Exception:
            log.exception("HTTP request failed", extra={"path": path, "method": method})
            status, headers, body = _json(500, {"error": "internal error"})
        headers.append(("Content-Length", str(len(body))))
        phrase = HTTPStatus(status).phrase if status in _KNOWN else "Unknown"
        start_response(f"{status} {phrase}", headers)
        return [body]

    def _dispatch(self, path: str, method: str, environ: dict) -> _Response:
        if path in ("/metrics", "/healthz", "/readyz"):
            if method not in ("GET", "HEAD"):
                return _json(405, {"error": "method not allowed"}, [("Allow", "GET, HEAD")])
            if path == "/metrics":
                return 200, [("Content-Type", CONTENT_TYPE_LATEST)], generate_latest(self.registry)
            return _json(200, {"status": "ok"}) if path == "/healthz" else self._readyz()
        route = self._routes.get(path)
        if route is None:
            return _json(404, {"error": "not found"})
        if method != "POST":
            return _json(405, {"error": "method not allowed"}, [("Allow", "POST")])
        return self._webhook(path, route, environ)

    def _readyz(self) -> _Response:
        try:
            ready, details = self.readiness()
        except Exception as exc:
            # The class name only: a message could carry a connection string.
            log.warning("readiness check failed", exc_info=True)
            return _json(503, {"status": "not ready", "error": type(exc).__name__})
        payload = {"status": "ready" if ready else "not ready"}
        payload.update((k, v) for k, v in (details or {}).items() if k != "status")
        return _json(200 if ready else 503, payload)

    def _webhook(self, path: str, route: _Route, environ: dict) -> _Response:
        body = self._read_body(environ)
        if not isinstance(body, bytes):
            return body  # the error response
        headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k[:5] == "HTTP_"
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        request = WebhookRequest(
            path,
            body,
            MappingProxyType(headers),
            MappingProxyType(query),
            environ.get("REMOTE_ADDR", ""),
        )
        if not self._authentic(request, route):
            extra = {"path": path, "remote": request.remote_addr}
            log.warning("unauthenticated webhook refused", extra=extra)
            return _json(401, {"error": "unauthorized"})
        if looks_like_json(body, headers.get("content-type", "")):
            problem = depth_problem(body)
            if problem:
                return _json(400, {"error": problem})
        try:
            status, payload = route.handler(request)
        except ValueError as exc:
            return _json(400, {"error": str(exc)})
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise TypeError(f"webhook handler for {path} returned status {status!r}")
        return _json(status, payload)

    def _read_body(self, environ: dict) -> bytes | _Response:
        stream = environ["wsgi.input"]
        declared = (environ.get("CONTENT_LENGTH") or "").strip()
        if declared:
            # Strictly digits: int() would also take "+5", " 5" and "1_000".
            if not _DIGITS.fullmatch(declared):
                return _json(400, {"error": "malformed Content-Length"})
            length = int(declared)
            if length > self.max_body_bytes:
                return _json(413, {"error": f"body over {self.max_body_bytes} bytes"})
            return stream.read(length) if length else b""
        # Unknown length (chunked): one byte over the cap is enough to know.
        body = stream.read(self.max_body_bytes + 1)
        if len(body) > self.max_body_bytes:
            return _json(413, {"error": f"body over {self.max_body_bytes} bytes"})
        return body

    def _authentic(self, request: WebhookRequest, route: _Route) -> bool:
        secret = self.webhook_secret()
        if not secret:
            if not self._warned_no_secret:
                self._warned_no_secret = True
                log.warning("no webhook secret configured: every webhook is refused")
            return False
        self._warned_no_secret = False  # warn again should a reload remove it
        key = secret.encode()
        # Headers arrive as latin-1 text (PEP 3333); back to the bytes on the wire.
        offered = [request.headers.get("x-syncd-token", "").strip().encode("latin-1", "replace")]
        scheme, _, credential = request.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() == "bearer":
            offered.append(credential.strip().encode("latin-1", "replace"))
        if route.allow_query_token:
            offered += [t.encode() for t in request.query.get("token", [])]
            if "x-www-form-urlencoded" in request.headers.get("content-type", ""):
                offered += [t.encode() for t in request.form().get("token", [])]
        ok = False
        for token in offered:  # every candidate is compared: timing says nothing
            ok |= hmac.compare_digest(token, key)
        signature = request.headers.get("x-syncd-signature", "").strip()
        if signature[:7].lower() == "sha256=":
            expected = hmac.new(key, request.body, hashlib.sha256).hexdigest().encode()
            ok |= hmac.compare_digest(signature[7:].lower().encode("latin-1", "replace"), expected)
        return ok


def _json(status: int, payload: Any, extra: list[tuple[str, str]] | None = None) -> _Response:
    body = json.dumps(payload, ensure_ascii=False, default=str).encode()
    return status, [("Content-Type", "application/json"), *(extra or [])], body


class HttpServer:
    """waitress in a daemon thread; ``listen`` is ``host:port`` or ``[v6]:port``, port 0 = any."""

    def __init__(self, app: WebApp, listen: str, threads: int = 4) -> None:
        self.app = app
        self.host, self.requested_port = _split_listen(listen)
        self.threads = threads
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        """Bind and serve; returns once the socket listens.  OSError when it cannot bind."""
        from waitress import create_server

        if self._server is not None:
            raise RuntimeError("HttpServer already started")
        # One address: a name that resolves to v4 and v6 would make waitress open
        # two sockets, and with port 0 each on a different port.
        info = socket.getaddrinfo(self.host, self.requested_port, type=socket.SOCK_STREAM)
        self._server = create_server(
            self.app,
            host=info[0][4][0],
            port=self.requested_port,
            threads=self.threads,
            ident="syncd",
            clear_untrusted_proxy_headers=True,
            asyncore_use_poll=True,
            # waitress buffers a body before the app sees it; this stops an
            # oversized one at the door (+ slack for chunk framing, which it counts).
            max_request_body_size=self.app.max_body_bytes + 65_536,
        )
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="http", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("HttpServer not started")
        return int(self._server.effective_port)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, let answers in flight go out, close; waits at most ~``timeout``."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stop.set()
        try:
            server.pull_trigger()  # wakes the poll loop at once
        except OSError:
            pass  # the loop already ended and closed the trigger
        thread.join(timeout)
        if thread.is_alive():
            log.warning("HTTP server thread did not stop within %.1fs", timeout)
        self._server = self._thread = None

    def _serve(self) -> None:
        # waitress's own run() loops until every channel is gone and its close()
        # is not safe from another thread; this loop owns the socket map instead.
        from waitress import wasyncore

        server = self._server
        socket_map = server._map
        poll = server.adj.asyncore_loop_timeout
        try:
            while not self._stop.is_set():
                wasyncore.loop(timeout=poll, map=socket_map, use_poll=True, count=1)
            server.accepting = False
            # Requests already taken get their answer out, for a bounded while.
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline and any(
                ch.requests or ch.total_outbufs_len for ch in list(server.active_channels.values())
            ):
                wasyncore.loop(timeout=0.05, map=socket_map, use_poll=True, count=1)
        except Exception:
            log.exception("HTTP server loop failed")
        finally:
            wasyncore.close_all(socket_map)
            server.task_dispatcher.shutdown(timeout=2)


def _split_listen(listen: str) -> tuple[str, int]:
    host, sep, port = listen.strip().rpartition(":")
    if not sep or not _DIGITS.fullmatch(port) or int(port) > 65535:
        raise ValueError(f"listen must be host:port, got {listen!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"write an IPv6 listen address in brackets: [{host}]:{port}")
    return host or "0.0.0.0", int(port)
