"""``syncd bindings show SYSTEM ENTITY ID``: one object's ids across systems and its facts.

What syncd holds of an object, as JSON: each binding row of the object (its id
in 1C, in the CRM, under identity), the fingerprint and version of syncd's own
last write there, and the facts a flow remembers of it, unpacked (the store
keeps them deflated: a bare ``SELECT`` shows ``z1:…``).

    syncd bindings show erp order 111e19f9-45c1-4362-aee4-db47ee2b8b2a
    syncd bindings show crm order 111e19f9-45c1-4362-aee4-db47ee2b8b2a
"""

from __future__ import annotations

import dataclasses
import json
import sys

import click

from syncd.commands.common import with_store
from syncd.store import Store, bindings


@click.group("bindings")
def bindings_group() -> None:
    """What syncd holds of one object: its ids across systems and its facts."""


@bindings_group.command("show")
@click.argument("system")
@click.argument("entity")
@click.argument("external_id")
@with_store(reads_only=True)
def b_show(store: Store, system: str, entity: str, external_id: str) -> None:
    """Every binding of the object's link, facts unpacked, as JSON."""
    with store.read() as conn:
        found = bindings.get(conn, system, entity, external_id)
        rows = bindings.linked(conn, found.link) if found else []
    if not rows:
        click.echo(f"no binding {system} {entity} {external_id}", err=True)
        sys.exit(1)
    shown = [dataclasses.asdict(b) | {"facts": b.facts} for b in rows]
    for row in shown:
        row.pop("stored_facts")
    click.echo(json.dumps(shown, indent=2, ensure_ascii=False, sort_keys=True))
