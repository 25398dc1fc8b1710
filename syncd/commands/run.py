"""``syncd run``: the daemon (or one pass of it with ``--once``)."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

import click

from syncd import memory, stack_dump
from syncd.commands.common import config_option, open_store, settings_or_exit
from syncd.config import ConfigError, config_path_from
from syncd.engine.daemon import Engine

log = logging.getLogger("syncd")


@click.command("run")
@config_option
@click.option("--once", is_flag=True, help="Run every source once, drain inbox and outbox, exit.")
@click.option("--dry-run", is_flag=True, help="Plan and log the writes, apply none of them.")
@click.option("--no-migrate", is_flag=True, help="Do not apply migrations at start.")
@click.option("--no-http", is_flag=True, help="Serve no HTTP (metrics, health, webhooks).")
def run_command(
    config_path: str | None, once: bool, dry_run: bool, no_migrate: bool, no_http: bool
) -> None:
    """Run the sync daemon."""
    memory.limit_arenas()  # before any worker thread exists
    settings = settings_or_exit(config_path)
    path = str(config_path_from(config_path, os.environ))
    store = open_store(settings, migrate=False if no_migrate else None)
    try:
        engine = Engine(settings, config_path=path, dry_run=dry_run, store=store)
    except ConfigError as exc:
        click.echo(f"configuration error:\n{exc}", err=True)
        sys.exit(2)
    server = None
    if not (once or no_http):
        server = _serve(engine)
    engine.install_signal_handlers()
    stack_dump.install()  # `kill -USR1 <pid>`: every thread's stack to stderr (the journal)
    try:
        code = engine.run(once=once)
    finally:
        if server is not None:
            server.stop()
        store.dispose()
    _exit(code)


def _exit(code: int) -> None:
    """Exit now, even if a worker is still stuck in a call to an outside system.

    Its claim was given back at shutdown, so the command simply runs again later.
    """
    deadline = time.monotonic() + 2.0
    for t in threading.enumerate():
        if t is not threading.main_thread() and not t.daemon:
            t.join(max(0.0, deadline - time.monotonic()))  # idle workers leave at once
    stuck = [
        t
        for t in threading.enumerate()
        if t is not threading.main_thread() and t.is_alive() and not t.daemon
    ]
    if stuck:
        log.warning(
            "exiting with %d worker(s) still busy: %s", len(stuck), ", ".join(t.name for t in stuck)
        )
        logging.shutdown()
        os._exit(code)
    sys.exit(code)


def _serve(engine: Engine):  # noqa: ANN202
    from syncd.web import HttpServer, WebApp

    def secret() -> str | None:
        value = engine.settings.http.webhook_secret
        return value.get_secret_value() if value is not None else None

    app = WebApp(
        registry=engine.metrics.registry,
        readiness=engine.readiness,
        webhook_secret=secret,
        max_body_bytes=engine.settings.http.max_body_bytes,
    )
    engine.attach_web(app)
    server = HttpServer(app, engine.settings.http.listen)
    try:
        server.start()
    except OSError as exc:
        click.echo(f"cannot listen on {engine.settings.http.listen}: {exc}", err=True)
        sys.exit(2)
    log.info("http listening", extra={"listen": engine.settings.http.listen, "port": server.port})
    return server
