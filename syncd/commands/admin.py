"""``syncd db upgrade``, ``syncd check-config`` and ``syncd inbox replay``."""

from __future__ import annotations

import os
import sys

import click

from syncd.commands.common import config_option, open_store, settings_or_exit, with_store
from syncd.config import ConfigError, load_settings
from syncd.store import Store, inbox


@click.group("db")
def db_group() -> None:
    """The state store."""


@db_group.command("upgrade")
@config_option
def db_upgrade(config_path: str | None) -> None:
    """Apply the store's migrations (the daemon also does at start, unless disabled)."""
    settings = settings_or_exit(config_path, store_only=True)
    store = open_store(settings, migrate=True)
    click.echo(f"store {store.describe()} is at revision {store.current_revision()}")
    store.dispose()


@click.command("check-config")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@config_option
def check_config(path: str | None, config_path: str | None) -> None:
    """Validate a configuration file: PATH or -c/--config as every command takes it
    (default: $SYNCD_CONFIG); exit 1 when invalid."""
    from syncd.engine.contracts import PartContext
    from syncd.engine.pipeline import build_pipeline
    from syncd.metrics import Metrics

    if path and config_path and path != config_path:
        raise click.UsageError(f"two files to check: {path} and -c {config_path}; give one")
    path = path or config_path
    try:
        settings = load_settings(path, os.environ)
        build_pipeline(settings, PartContext(settings, Metrics())).close()
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"{settings.source_file}: valid")


@click.group("inbox")
def inbox_group() -> None:
    """The inbox of observed changes."""


@inbox_group.command("replay")
@click.option("--stream", default=None, help="Only this source stream's events.")
@with_store
def inbox_replay(store: Store, stream: str | None) -> None:
    """Plan every stored event again (writes only what differs from what was written)."""
    with store.begin() as conn:
        n = inbox.replay(conn, stream)
    click.echo(f"{n} event(s) will be planned again by the running daemon (or `syncd run --once`)")
