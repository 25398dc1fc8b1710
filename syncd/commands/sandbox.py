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
@click.option("--fail-5xx", default=0.0, show_default=True, help="Share of requests given 5xx.")
@click.option("--fail-503", default=0.0, show_default=True, help="Share of requests given 503.")
@click.option("--html-errors", is_flag=True, help="Error pages as HTML, as nginx sends them.")
@click.option("--slow", default=0.0, show_default=True, help="Seconds added to every answer.")
@click.option("--hang", default=0.0, show_default=True, help="Share of requests that hang 60 s.")
@click.option("--seed", default=1, show_default=True, help="Seed of the fault draws.")
def sandbox_crm(
    port: int,
    host: str,
    api_keys: tuple[str, ...],
    rps: float,
    fail_5xx: float,
    fail_503: float,
    html_errors: bool,
    slow: float,
    hang: float,
    seed: int,
) -> None:
    """Serve a sandbox RetailCRM API v5 at http://HOST:PORT/api/v5/.

    A manager's change: POST /sandbox/manager/orders/<id> with a JSON body,
    e.g. {"status": "client-confirmed"} (no key needed; sandbox only).
    """
    from syncd.sandbox.crm_app import SandboxCrm
    from syncd.sandbox.crm_faults import Faults
    from syncd.web import HttpServer

    app = SandboxCrm(list(api_keys), requests_per_second=rps or None, html_503=html_errors)
    app.faults = Faults(
        server_error=fail_5xx,
        unavailable=fail_503,
        html=html_errors,
        slow_seconds=slow,
        timeout=hang,
        seed=seed,
    )
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
