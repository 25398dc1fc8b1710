"""``syncd backfill erp | pos``: history read once, beside the running daemon, resumable."""

from __future__ import annotations

import os
import socket
import sys
from datetime import datetime
from pathlib import Path

import click

from syncd.commands.common import config_option, open_store, settings_or_exit


def _since(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {text!r}") from None


@click.group("backfill")
def backfill_group() -> None:
    """Load history: 1C orders, or POS export archives. Safe to stop and run again."""


@backfill_group.command("erp")
@config_option
@click.option("--from", "since", required=True, help="First day, YYYY-MM-DD.")
def backfill_erp(config_path: str | None, since: str) -> None:
    """1C customer orders dated from --from, into the inbox (the daemon plans them)."""
    from syncd.backfill import ErpOrdersBackfill, run_backfill
    from syncd.connectors.onec.connection import erp_client_for
    from syncd.engine.contracts import PartContext
    from syncd.mappings.load import load_mappings

    settings = settings_or_exit(config_path)
    start = _since(since)
    client = erp_client_for(PartContext(settings, None))
    set_name = load_mappings(settings.mappings_dir).orders.erp_set
    store = open_store(settings)
    read = [0]

    def progress(n: int) -> None:
        read[0] += n
        click.echo(f"\r1C orders read: {read[0]}", nl=False)

    try:
        source = ErpOrdersBackfill("backfill_erp", client, start, set_name, progress)
        stored, _ = run_backfill(store, source, _owner())
        click.echo()
    except RuntimeError as exc:
        click.echo(f"backfill stopped: {exc}\nrun the same command again to resume", err=True)
        sys.exit(1)
    finally:
        store.dispose()
    click.echo(f"done: {stored} new order change(s) stored; the daemon brings them to the CRM")


@backfill_group.command("pos")
@config_option
@click.option("--dir", "archive", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--group", required=True, help="The store group (a pos_drop source's group).")
@click.option("--from", "since", required=True, help="First day, YYYY-MM-DD.")
def backfill_pos(config_path: str | None, archive: str, group: str, since: str) -> None:
    """Receipts of an archive of POS exports (files stay where they are)."""
    from syncd.backfill import PosArchiveBackfill, run_backfill
    from syncd.engine.contracts import PartContext
    from syncd.engine.pipeline import build_pipeline

    settings = settings_or_exit(config_path)
    start = _since(since)
    pipeline = build_pipeline(settings, PartContext(settings, None))
    live = next(
        (s for s in pipeline.sources.values() if s.kind == "pos_drop" and s.options.group == group),
        None,
    )
    if live is None:
        click.echo(f"no pos_drop source with group {group!r} in the configuration", err=True)
        sys.exit(2)
    store = open_store(settings)
    try:
        source = PosArchiveBackfill(
            f"backfill_pos_{group}", Path(archive), live, start, lambda n: None
        )
        with click.progressbar(length=len(source.files()), label="export files") as bar:
            source.progress = bar.update
            stored, _ = run_backfill(store, source, _owner())
    except RuntimeError as exc:
        click.echo(f"backfill stopped: {exc}\nrun the same command again to resume", err=True)
        sys.exit(1)
    finally:
        store.dispose()
        pipeline.close()
    click.echo(f"done: {stored} new receipt(s) stored; the daemon brings them to the CRM")


def _owner() -> str:
    return f"backfill:{socket.gethostname()}:{os.getpid()}"
