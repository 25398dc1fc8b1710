"""``syncd status`` and ``syncd dead-letters``: what is going on, and putting failures right."""

from __future__ import annotations

import json
import sys

import click

from syncd.commands.common import with_store
from syncd.status import render_text, status_report
from syncd.store import Store, dead_letters


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_store(reads_only=True)
def status_command(store: Store, as_json: bool) -> None:
    """Streams, backlog, dead letters and conflicts, from the store."""
    report = status_report(store)
    click.echo(json.dumps(report, indent=2, default=str) if as_json else render_text(report))


@click.group("dead-letters")
def dead_letters_group() -> None:
    """Inspect, retry or discard what could not be processed."""


@dead_letters_group.command("list")
@click.option("--limit", default=100, show_default=True)
@with_store(reads_only=True)
def dl_list(store: Store, limit: int) -> None:
    """Open dead letters, oldest first."""
    with store.read() as conn:
        letters = dead_letters.list_open(conn, limit)
    if not letters:
        click.echo("no open dead letters")
    for d in letters:
        first_line = d.error.splitlines()[0] if d.error else ""
        click.echo(f"{d.id}\t{d.kind}\t{d.origin}\t{d.subject}\t{first_line[:120]}")


@dead_letters_group.command("show")
@click.argument("letter_id", type=int)
@with_store(reads_only=True)
def dl_show(store: Store, letter_id: int) -> None:
    """One dead letter in full: error, payload, attempts."""
    with store.read() as conn:
        d = dead_letters.get(conn, letter_id)
    if d is None:
        click.echo(f"no dead letter {letter_id}", err=True)
        sys.exit(1)
    click.echo(json.dumps(d.__dict__, indent=2, ensure_ascii=False, default=str))


@dead_letters_group.command("retry")
@click.argument("letter_id", type=int, required=False)
@click.option("--all", "retry_all", is_flag=True, help="Retry every open dead letter.")
@with_store
def dl_retry(store: Store, letter_id: int | None, retry_all: bool) -> None:
    """Put a dead command or event back in line (the daemon runs it next)."""
    if (letter_id is None) == (not retry_all):
        raise click.UsageError("give one dead letter ID or --all")
    with store.read() as conn:
        ids = [letter_id] if letter_id else [d.id for d in dead_letters.list_open(conn, 10**9)]
    failed = 0
    for i in ids:
        try:
            with store.begin() as conn:
                click.echo(dead_letters.retry(conn, i))
        except (KeyError, ValueError) as exc:
            failed += 1
            click.echo(f"dead letter {i}: {exc.args[0]}", err=True)
    sys.exit(1 if failed else 0)


@dead_letters_group.command("discard")
@click.argument("letter_id", type=int)
@with_store
def dl_discard(store: Store, letter_id: int) -> None:
    """Let go of a dead letter for good (a dead command's later writes may then proceed)."""
    try:
        with store.begin() as conn:
            click.echo(dead_letters.discard(conn, letter_id))
    except (KeyError, ValueError) as exc:
        click.echo(str(exc.args[0]), err=True)
        sys.exit(1)
