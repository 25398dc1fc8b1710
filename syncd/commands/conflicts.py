"""``syncd conflicts list | show | resolve ID --take erp|crm``: what the rules could not decide.

Resolving takes one side's state for the object: syncd records the choice in
what it remembers of the object and plans the object again, so the daemon
writes the taken side's state to the other side at its next cycle.
"""

from __future__ import annotations

import json
import sys

import click

from syncd.commands.common import with_store
from syncd.store import Store, bindings, conflicts, inbox


@click.group("conflicts")
def conflicts_group() -> None:
    """Changes on both sides the rules could not decide between."""


@conflicts_group.command("list")
@click.option("--limit", default=100, show_default=True)
@with_store(reads_only=True)
def c_list(store: Store, limit: int) -> None:
    """Open conflicts, oldest first."""
    with store.read() as conn:
        found = conflicts.list_open(conn, limit)
    if not found:
        click.echo("no open conflicts")
    for c in found:
        click.echo(f"{c.id}\t{c.flow}\t{c.entity}\t{c.object_key}\t{c.reason}")


@conflicts_group.command("show")
@click.argument("conflict_id", type=int)
@with_store(reads_only=True)
def c_show(store: Store, conflict_id: int) -> None:
    """One conflict in full: the reason and what each side showed."""
    with store.read() as conn:
        c = conflicts.get(conn, conflict_id)
    if c is None:
        click.echo(f"no conflict {conflict_id}", err=True)
        sys.exit(1)
    click.echo(json.dumps(c.__dict__, indent=2, ensure_ascii=False, default=str))


@conflicts_group.command("resolve")
@click.argument("conflict_id", type=int)
@click.option(
    "--take",
    type=click.Choice(["erp", "crm"]),
    required=True,
    help="Whose state wins: 1C (erp) or RetailCRM (crm).",
)
@with_store
def c_resolve(store: Store, conflict_id: int, take: str) -> None:
    """Take one side's state; the daemon writes it to the other side next."""
    with store.begin() as conn:
        c = conflicts.get(conn, conflict_id)
        if c is None or c.state != "open":
            click.echo(f"no open conflict {conflict_id}", err=True)
            sys.exit(1)
        ref = conflicts.object_ref(c.entity, c.object_key, c.details)
        found = bindings.get(conn, *ref)
        facts = dict(found.facts or {}) if found else {}
        facts["take"] = take
        bindings.remember(conn, {ref: facts})  # type: ignore[dict-item]
        conflicts.resolve(conn, conflict_id, f"take:{take}")
        requeued = inbox.requeue_newest(conn, ref[0], ref[1], ref[2])
    click.echo(
        f"conflict {conflict_id}: taking {take}'s state for {c.object_key}"
        + ("; planned again at the next cycle" if requeued else "")
    )
