"""``syncd db copy --from URL --to URL``: move the store to another database.

The usual move is from the embedded SQLite file to PostgreSQL, with syncd
stopped (docs/install.md has the whole procedure).  The work and every check
live in ``syncd.store.transfer``; this command prints what it did.  Passwords
given in the URLs never appear in its output: leave them out altogether and
use ``PGPASSWORD`` or ``~/.pgpass``, which PostgreSQL's client library reads.
"""

from __future__ import annotations

import sys
import time
from urllib.parse import unquote, urlsplit

import click

from syncd.store.transfer import CopyFailed, CopyRefused, copy_store

PROGRESS_EVERY_SECONDS = 5.0


@click.command("copy")
@click.option("--from", "source", required=True, metavar="URL", help="The store to copy.")
@click.option("--to", "target", required=True, metavar="URL", help="An empty, migrated database.")
@click.option(
    "--batch-size",
    default=1000,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Rows read and written at a time.",
)
def db_copy_command(source: str, target: str, batch_size: int) -> None:
    """Copy every table of the store into another database (syncd stopped).

    The target must be migrated to the same revision (`syncd db upgrade` with
    SYNCD_DB_URL set to it) and hold no rows. Exit 0 when every table was
    copied and its row count verified, 1 when refused or failed (the target
    is then left as it was).

    \b
    syncd db copy --from sqlite:////var/lib/syncd/syncd.db \\
                  --to postgresql://syncd@db.example.internal:5432/syncd
    """
    secrets = _passwords(source, target)
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
