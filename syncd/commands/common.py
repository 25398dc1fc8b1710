"""What every command needs: the config option, loading settings, opening the store."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url

from syncd.config import ConfigError, Settings, load_settings, load_store_settings
from syncd.logs import register_secret, setup_logging
from syncd.store import Store

config_option = click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Configuration file (default: $SYNCD_CONFIG).",
)


SANDBOX_MISSING = (
    "the sandboxes and the demo are not installed: they are not part of syncd's production "
    "package. Install them with pip install 'syncd[sandbox]', or from a checkout: make run"
)


def sandbox_or_exit() -> None:
    """Exit 2 saying how to get them when the sandboxes (syncd-sandbox) are not installed."""
    if importlib.util.find_spec("syncd_sandbox") is None:
        click.echo(f"syncd: {SANDBOX_MISSING}", err=True)
        sys.exit(2)


def settings_or_exit(
    config_path: str | None, *, code: int = 2, store_only: bool = False
) -> Settings:
    """The settings, or exit ``code`` naming every problem.  ``store_only``: a command
    that needs nothing but the store also runs on ``SYNCD_DB_URL`` with no file."""
    try:
        settings = (load_store_settings if store_only else load_settings)(config_path)
    except ConfigError as exc:
        click.echo(f"configuration error:\n{exc}", err=True)
        sys.exit(code)
    for secret in settings.secret_values():
        register_secret(secret)
    setup_logging(settings.log.level, settings.log.format)
    return settings


def open_store(settings: Settings, *, migrate: bool | None = None) -> Store:
    """Open the store; migrate when asked or configured, else insist it is current."""
    store = Store.open(settings.database_url, pool_size=settings.store.pool_size)
    try:
        if migrate if migrate is not None else settings.store.migrate_on_start:
            store.upgrade()
        elif not store.is_migrated():
            _stop(
                f"the store at {store.describe()} is not migrated to this version; "
                "run `syncd db upgrade`"
            )
    except Exception as exc:
        _stop(f"cannot open the store at {store.describe()}: {exc}")
    return store


def _stop(message: str) -> None:
    """Say why the command cannot go on and exit 2."""
    click.echo(message, err=True)
    sys.exit(2)


def open_existing_store(settings: Settings) -> Store:
    """Open the store for a command that only reads it: one that is there and migrated.

    Never creates one: a mistyped SQLite path must not leave a new empty store
    behind and report "nothing has run yet" from it."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        if not path.is_file():
            _stop(
                f"syncd: there is no store at {path} (this command reads one and creates "
                "none): check store.url / SYNCD_DB_URL, or make one with `syncd db upgrade`"
            )
    return open_store(settings, migrate=False)


def with_store(fn: Callable[..., Any] | None = None, *, reads_only: bool = False) -> Any:
    """Decorator: pass an opened, migrated store as ``store`` (keeps --config).

    ``reads_only``: a command that only reads (``status``, ``… list``, ``… show``,
    ``customers explain``) opens an existing store and never creates or migrates one.
    Either way a command that needs only the store runs on ``SYNCD_DB_URL`` alone."""
    if fn is None:
        return lambda f: with_store(f, reads_only=reads_only)

    @config_option
    @click.pass_context
    def wrapper(ctx: click.Context, config_path: str | None, **kwargs: Any) -> Any:
        settings = settings_or_exit(config_path, store_only=True)
        store = open_existing_store(settings) if reads_only else open_store(settings)
        try:
            return ctx.invoke(fn, store=store, **kwargs)
        finally:
            store.dispose()

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper
