"""``syncd sandbox crm``: run the sandbox RetailCRM on loopback, for demos and manual tests."""

from __future__ import annotations

import signal
import threading

import click


@click.group("sandbox")
def sandbox_group() -> None:
    """Local emulators of the outside systems."""


@sandbox_group.command("crm")
@click.option("--port", default=8790, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    default=["sandbox-key"],
    show_default=True,
    help="An API key the sandbox accepts (repeat for several).",
)
@click.option(
    "--rps",
    default=10.0,
    show_default=True,
    help="Requests per second per key before 503 (0: no limit).",
)
def sandbox_crm(port: int, host: str, api_keys: tuple[str, ...], rps: float) -> None:
    """Serve a sandbox RetailCRM API v5 at http://HOST:PORT/api/v5/."""
    from syncd.sandbox.crm_app import SandboxCrm
    from syncd.web import HttpServer

    app = SandboxCrm(list(api_keys), requests_per_second=rps or None)
    server = HttpServer(app, f"{host}:{port}")
    server.start()
    click.echo(
        f"sandbox CRM on http://{host}:{server.port} (keys: {len(api_keys)}, "
        f"limit {rps or 'none'} req/s); Ctrl-C stops it"
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop()
