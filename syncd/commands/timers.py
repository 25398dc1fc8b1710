"""``syncd timers list``: the delayed actions waiting in the store (the call chain's returns).

syncd timers list                 # pending, soonest first
syncd timers list --all --json    # fired and cancelled too
"""

from __future__ import annotations

import json
from datetime import datetime

import click

from syncd.commands.common import config_option, open_existing_store, settings_or_exit


@click.group("timers")
def timers_group() -> None:
    """Timers: what syncd will do later, and when."""


@timers_group.command("list")
@config_option
@click.option("--all", "everything", is_flag=True, help="Fired and cancelled ones too.")
@click.option("--limit", default=200, show_default=True, help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def timers_list(config_path: str | None, everything: bool, limit: int, as_json: bool) -> None:
    """Timers in the store, soonest due first (pending only unless --all)."""
    from syncd import clock
    from syncd.store import timers

    settings = settings_or_exit(config_path, store_only=True)
    store = open_existing_store(settings)
    states = ("pending", "fired", "cancelled") if everything else ("pending",)
    try:
        with store.read() as conn:
            rows = timers.listing(conn, states, limit)
    finally:
        store.dispose()
    now = clock.now()
    for row in rows:
        if as_json:
            click.echo(json.dumps(row.__dict__, ensure_ascii=False, default=str))
            continue
        due = datetime.fromtimestamp(row.due_at).astimezone().strftime("%Y-%m-%d %H:%M:%S %z")
        when = _relative(row.due_at - now) if row.state == "pending" else row.state
        note = f"  ({row.note})" if row.note else ""
        click.echo(f"{row.key:<40} {row.subject:<36} {due}  {when}{note}")
    if not rows and not as_json:
        click.echo("no timers" + ("" if everything else " pending"))


def _relative(seconds: float) -> str:
    if seconds <= 0:
        return f"overdue by {_span(-seconds)}"
    return f"in {_span(seconds)}"


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{max(minutes, 0)} min"
