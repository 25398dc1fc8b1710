"""``syncd sandbox crm``: run the sandbox RetailCRM on loopback, for demos and manual tests."""

from __future__ import annotations

import signal
import threading

import click

from syncd.commands.common import sandbox_or_exit


@click.group("sandbox")
def sandbox_group() -> None:
    """Local emulators of the outside systems."""


def _serve_until_stopped(server) -> None:  # noqa: ANN001 - syncd.web.HttpServer
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop()


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
@click.option(
    "--timezone",
    default="Europe/Moscow",
    show_default=True,
    help="The account's zone: every date it writes is in it (set syncd's crm.timezone alike).",
)
@click.option("--fail-5xx", default=0.0, show_default=True, help="Share of requests given 5xx.")
@click.option("--fail-503", default=0.0, show_default=True, help="Share of requests given 503.")
@click.option("--html-errors", is_flag=True, help="Error pages as HTML, as nginx sends them.")
@click.option("--slow", default=0.0, show_default=True, help="Seconds added to every answer.")
@click.option(
    "--hang", default=0.0, show_default=True, help="Share of requests that hang (--hang-seconds)."
)
@click.option(
    "--hang-seconds", default=60.0, show_default=True, help="How long a hung request hangs."
)
@click.option(
    "--hang-then",
    type=click.Choice(["apply", "drop"]),
    default="apply",
    show_default=True,
    help="After the hang: the write lands late (after the client gave up), or never.",
)
@click.option("--seed", default=1, show_default=True, help="Seed of the fault draws.")
@click.option(
    "--partial-uploads",
    type=click.Choice(["200", "460"]),
    default="200",
    show_default=True,
    help="How an upload that goes in only in part is answered: 200 success:true with "
    "failedOrders (the recorded form), or 460.",
)
def sandbox_crm(
    port: int,
    host: str,
    api_keys: tuple[str, ...],
    rps: float,
    timezone: str,
    fail_5xx: float,
    fail_503: float,
    html_errors: bool,
    slow: float,
    hang: float,
    hang_seconds: float,
    hang_then: str,
    seed: int,
    partial_uploads: str,
) -> None:
    """Serve a sandbox RetailCRM API v5 at http://HOST:PORT/api/v5/.

    A manager's change: POST /sandbox/manager/orders/<id> with a JSON body,
    e.g. {"status": "client-confirmed"} (no key needed; sandbox only).
    """
    sandbox_or_exit()
    from syncd.config_base import known_zone
    from syncd.web import HttpServer
    from syncd_sandbox.crm_app import SandboxCrm
    from syncd_sandbox.crm_faults import Faults

    try:
        known_zone(timezone)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--timezone") from None
    app = SandboxCrm(
        list(api_keys),
        requests_per_second=rps or None,
        html_503=html_errors,
        timezone=timezone,
        partial_upload_status=200 if partial_uploads == "200" else 460,
    )
    app.faults = Faults(
        server_error=fail_5xx,
        unavailable=fail_503,
        html=html_errors,
        slow_seconds=slow,
        timeout=hang,
        timeout_seconds=hang_seconds,
        hang_then="drop" if hang_then == "drop" else "apply",
        seed=seed,
    )
    # a hung request holds a server thread: enough of them that the others still get through
    server = HttpServer(app, f"{host}:{port}", threads=64)
    server.start()
    click.echo(
        f"sandbox CRM on http://{host}:{server.port} (keys: {len(api_keys)}, "
        f"limit {rps or 'none'} req/s, dates in {timezone}); Ctrl-C stops it"
    )
    _serve_until_stopped(server)


@sandbox_group.command("erp")
@click.option("--port", default=8791, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--user", default="Обмен", show_default=True, help="1C user (UTF-8).")
@click.option("--password", default="sandbox", show_default=True, help="That user's password.")
@click.option("--customers", default=200, show_default=True, help="Sample partners.")
@click.option("--items", default=50, show_default=True, help="Sample goods.")
@click.option("--orders", default=300, show_default=True, help="Sample site orders.")
@click.option("--timezone", default="Europe/Moscow", show_default=True, help="The base's zone.")
@click.option("--slow", default=0.0, show_default=True, help="Seconds added to every answer.")
@click.option("--fail-share", default=0.0, show_default=True, help="Share of requests given 503.")
@click.option("--hang", default=0.0, show_default=True, help="Share of requests that hang.")
@click.option(
    "--late", default=0.0, show_default=True, help="Share of writes done, then answered late."
)
@click.option("--hang-seconds", default=60.0, show_default=True, help="How long a hang lasts.")
@click.option("--html-auth-errors", is_flag=True, help="A bad login gets an HTML page with 200.")
@click.option(
    "--atom-scalar-types",
    is_flag=True,
    help="Put m:type on Atom scalars (recorded real packages have none; some builds may).",
)
@click.option("--seed", default=1, show_default=True, help="Seed of the sample data and faults.")
def sandbox_erp(
    port: int,
    host: str,
    user: str,
    password: str,
    customers: int,
    items: int,
    orders: int,
    timezone: str,
    slow: float,
    fail_share: float,
    hang: float,
    late: float,
    hang_seconds: float,
    html_auth_errors: bool,
    atom_scalar_types: bool,
    seed: int,
) -> None:
    """Serve a sandbox 1C (УТ 11) at http://HOST:PORT/odata/standard.odata/.

    Also the web service syncd ships (/ws/SyncdExchange.1cws?wsdl: contrib/1c), an
    integrator's own with Cyrillic names (/ws/ОбменЗаказами.1cws?wsdl), and 1C users' actions
    (no auth; sandbox only): POST /sandbox/user/orders (a new site order),
    POST /sandbox/user/orders/<Ref_Key>/ship | close | cancel | edit.
    """
    sandbox_or_exit()
    from syncd.web import HttpServer
    from syncd_sandbox.erp_app import PREFIX, SandboxErp
    from syncd_sandbox.erp_faults import ErpFaults
    from syncd_sandbox.erp_routes import SOAP_NAME
    from syncd_sandbox.erp_schema import EXCHANGE_PLAN
    from syncd_sandbox.erp_syncd_exchange import NAME as SYNCD_WS

    app = SandboxErp(
        user=user,
        password=password,
        timezone=timezone,
        html_auth_errors=html_auth_errors,
        slow_seconds=slow,
        fail_share=fail_share,
        seed=seed,
        atom_scalar_types=atom_scalar_types,
    )
    app.faults = ErpFaults(
        unavailable=fail_share, hang=hang, late=late, hang_seconds=hang_seconds, seed=seed
    )
    app.trade.seed(customers=customers, items=items, orders=orders, seed=seed)
    server = HttpServer(app, f"{host}:{port}", threads=16)
    server.start()
    root = f"http://{host}:{server.port}"
    click.echo(f"sandbox 1C on {root}{PREFIX} (user {user!r}); Ctrl-C stops it")
    click.echo(f"  exchange plan {EXCHANGE_PLAN}, syncd's node {app.node} (code syncd)")
    click.echo(f"  web service {root}/ws/{SYNCD_WS}.1cws?wsdl (contrib/1c/SyncdExchange)")
    click.echo(f"  web service {root}/ws/{SOAP_NAME}.1cws?wsdl (an integrator's own)")
    _serve_until_stopped(server)
