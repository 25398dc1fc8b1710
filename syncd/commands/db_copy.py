"""``syncd db copy --from URL --to URL``: move the store to another database.

The usual move is from the embedded SQLite file to PostgreSQL, with syncd
stopped (docs/install.md has the whole procedure).  Either side may be left
out: it is then the configured store (``store.url``, or ``SYNCD_DB_URL`` from
the environment file), so a password need never be typed on a command line.
The work and every check live in ``syncd.store.transfer``; this command
prints what it did.  Passwords never appear in its output.
"""

from __future__ import annotations

import sys
import time
from urllib.parse import unquote, urlsplit

import click

from syncd.commands.common import config_option, settings_or_exit
from syncd.store.transfer import CopyFailed, CopyRefused, copy_store

PROGRESS_EVERY_SECONDS = 5.0


@click.command("copy")
@config_option
@click.option(
    "--from", "source", metavar="URL", help="The store to copy (default: the configured one)."
)
@click.option(
    "--to",
    "target",
    metavar="URL",
    help="An empty, migrated database (default: the configured one).",
)
@click.option(
    "--batch-size",
    default=1000,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Rows read and written at a time.",
)
def db_copy_command(
    config_path: str | None, source: str | None, target: str | None, batch_size: int
) -> None:
    """Copy every table of the store into another database (syncd stopped).

    The target must be migrated to the same revision (`syncd db upgrade`)
    and hold no rows. Leave out --from or --to to mean the configured store.
    Exit 0 when every table was copied and its row count verified, 1 when
    refused or failed (the target is then left as it was).

    \b
    # SYNCD_DB_URL (in /etc/syncd/syncd.env) already names the PostgreSQL database:
    syncd db upgrade
    syncd db copy --from sqlite:////var/lib/syncd/syncd.db
    """
    secrets: list[str] = []
    if source is None or target is None:
        if source is None and target is None:
            raise click.UsageError("give --from, --to or both (the other is the configured store)")
        settings = settings_or_exit(config_path)
        secrets += settings.secret_values()
        source, target = source or settings.database_url, target or settings.database_url
    secrets = sorted({*secrets, *_passwords(source, target)}, key=len, reverse=True)
    last = {"at": time.monotonic()}

    def progress(table: str, rows: int) -> None:
        if time.monotonic() - last["at"] >= PROGRESS_EVERY_SECONDS:
            last["at"] = time.monotonic()
            click.echo(f"  ... {table}: {rows:,} rows so far")

    try:
        report = copy_store(source, target, batch_size=batch_size, progress=progress)
    except CopyRefused as exc:
        click.echo(f"refused: {_scrub(str(exc), secrets)}", err=True)
        sys.exit(1)
    except CopyFailed as exc:
        click.echo(f"copy failed, nothing was kept: {_scrub(str(exc), secrets)}", err=True)
        sys.exit(1)
    except Exception as exc:  # the driver's errors: unreachable host, wrong password, ...
        reason = _scrub(f"{type(exc).__name__}: {exc}", secrets).splitlines()[0]
        click.echo(f"copy failed, nothing was kept: {reason}", err=True)
        sys.exit(1)

    click.echo(f"copied {report.source} -> {report.target} (schema revision {report.revision})")
    width = max(len(name) for name in report.rows)
    for name, rows in report.rows.items():
        click.echo(f"  {name:<{width}}  {rows:>12,} rows")
    for sequence, next_value in report.sequences.items():
        click.echo(f"  sequence {sequence} continues at {next_value:,}")
    total = sum(report.rows.values())
    click.echo(f"{total:,} rows in {report.seconds:.1f} s; row counts verified on both sides")


def _passwords(*urls: str) -> list[str]:
    found = []
    for url in urls:
        try:
            password = urlsplit(url).password
        except ValueError:
            continue
        if password:
            found += [password, unquote(password)]
    # the longest first, so that a password holding another is masked whole
    return sorted(set(found), key=len, reverse=True)


def _scrub(message: str, secrets: list[str]) -> str:
    for secret in secrets:
        message = message.replace(secret, "***")
    return message
