"""``syncd demo``: the order path end to end on two sandboxes (what ``make run`` runs)."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import click

from syncd.commands.common import sandbox_or_exit, settings_or_exit

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


@click.command("demo")
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False),
    default=str(DEFAULT_CONFIG),
    show_default=True,
    help="The demo's configuration.",
)
@click.option("--hours", default=24, show_default=True, help="Hours of business to play.")
@click.option("--hour-seconds", default=2.0, show_default=True, help="Real seconds per hour.")
@click.option("--keep-running", is_flag=True, help="After the day, keep running until Ctrl-C.")
@click.option("--no-webhooks", is_flag=True, help="Polling only: no nudges from 1C or the CRM.")
@click.option(
    "--erp-via",
    type=click.Choice(["odata", "soap"]),
    default="odata",
    show_default=True,
    help="How syncd reaches 1C: OData, or the SyncdExchange web service alone "
    "(contrib/1c; no free stock then).",
)
@click.option("--erp-port", default=8791, show_default=True, help="Port of the sandbox 1C.")
@click.option("--crm-port", default=8790, show_default=True, help="Port of the sandbox CRM.")
def demo_command(
    config_path: str,
    hours: int,
    hour_seconds: float,
    keep_running: bool,
    no_webhooks: bool,
    erp_via: str,
    erp_port: int,
    crm_port: int,
) -> None:
    """Play a day: site orders from 1C reach the CRM as "new", the order robot agrees most by
    itself, operators call about the rest (agreeing, cancelling, or not reaching the
    customer: syncd brings those back 3 h later), 1C posts the agreed ones for the
    warehouse, shipments and deliveries reach the CRM."""
    sandbox_or_exit()
    from syncd_sandbox.demo.runner import Demo

    settings = settings_or_exit(config_path)
    demo = Demo(
        settings, Path(config_path), webhooks=not no_webhooks, echo=click.echo, erp_via=erp_via
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        demo.start(erp_port, crm_port)
    except OSError as exc:
        click.echo(f"cannot start the demo: {exc}", err=True)
        sys.exit(2)
    click.echo(f"sandbox 1C   {demo.world.erp_url}\nsandbox CRM  {demo.world.crm_url}")
    if erp_via == "soap":
        click.echo(
            f"1C through   {demo.world.syncd_ws_url} (the SyncdExchange web service, no OData)"
        )
    click.echo(f"daemon       http://{settings.http.listen} (log: {demo.log_path})")
    click.echo(
        f"playing {hours} hours of business, {hour_seconds:g} s each"
        + ("" if not no_webhooks else ", polling only")
    )
    code = 0
    try:
        took = demo.initial_load()
        loaded = demo.player.stats()["initial"]
        click.echo(
            f"initial load: {loaded} sample orders and their customers in the CRM in {took:.1f} s"
        )
        summary = demo.play(hours, hour_seconds)
        code = _print_summary(summary, settings, config_path, demo, keep_running)
        if keep_running:
            click.echo("still running: Ctrl-C stops the daemon and the sandboxes")
            while not stop.wait(5) and demo.daemon_alive():
                demo.player.observe()
    except KeyboardInterrupt:
        click.echo("\nstopping")
    finally:
        demo.stop()
    sys.exit(code)


def _print_summary(summary: dict, settings, config_path: str, demo, live: bool) -> int:  # noqa: ANN001
    player, store = summary["player"], summary["store"]
    lag = player["lag"]
    click.echo("\nsummary")
    for what, n in player["actions"].items():
        click.echo(f"  {what:<12} {n}")
    click.echo(
        f"  orders synced 1C→CRM {player['synced']['1C→CRM']}, "
        f"CRM→1C {player['synced']['CRM→1C']}, still waiting {player['waiting']}"
    )
    for direction, values in lag.items():
        if values["p50"] is not None:
            click.echo(
                f"  lag {direction}: mean {values['mean']:.2f} s, p50 {values['p50']:.2f} s, "
                f"p99 {values['p99']:.2f} s, max {values['max']:.2f} s"
            )
        metric = summary["metric"].get(direction)
        if metric is not None:
            click.echo(
                f"    syncd_apply_latency_seconds says: mean {metric['mean']:.2f} s "
                f"over {metric['writes']} writes"
            )
    robot = player.get("robot")
    if robot:
        share = "-" if robot["share"] is None else f"{robot['share']:.0%}"
        click.echo(
            f"  order robot: decided {robot['decided']}, agreed {robot['agreed']} by itself, "
            f"{robot['handed_over']} to the operators (who agreed {robot['agreed_by_people']}); "
            f"robot's share of agreed orders {share}"
        )
        click.echo(
            f"  no answer {robot['no_answer']} times, {robot['chains_run_out']} order(s) "
            f"cancelled at the last missed call; delivered {robot['delivered']}"
        )
    click.echo(
        f"  dead letters {store.get('dead_letters', '?')}, conflicts {store.get('conflicts', '?')}"
    )
    click.echo("\nwhere to look")
    # the daemon and the sandboxes stop with the demo: their links answer only while it
    # keeps running; the store and the log stay
    metrics = f"http://{settings.http.listen}/metrics"
    if live:
        click.echo(f"  metrics      {metrics}")
    else:
        click.echo(f"  metrics      {metrics} (only while it runs: syncd demo --keep-running)")
    click.echo(f"  status       .venv/bin/syncd status -c {config_path}")
    click.echo(f"  daemon log   {demo.log_path}")
    ok = player["waiting"] == 0 and demo.daemon_alive()
    if not ok:
        waiting = ", ".join(player.get("waiting_for") or [])
        click.echo(f"  the day did not settle ({waiting}): see the daemon log", err=True)
    return 0 if ok else 1
