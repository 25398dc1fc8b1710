"""Serve a WSGI app (a sandbox) on loopback for the length of a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from syncd.web import HttpServer


@contextmanager
def serving(app, threads: int = 4) -> Iterator[str]:  # noqa: ANN001
    """``threads``: more when a test holds requests (each held one keeps a thread)."""
    server = HttpServer(app, "127.0.0.1:0", threads=threads)  # any WSGI callable
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()
