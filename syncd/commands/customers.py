"""``syncd customers explain ID | merge [--apply]``: who is who, and CRM duplicates.

``import``, ``train`` and ``split`` are in ``customers_model``."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from syncd.commands.common import config_option, open_store, settings_or_exit, with_store
from syncd.store import Store

if TYPE_CHECKING:
    from syncd.identity.keys import Record


@click.group("customers")
def customers_group() -> None:
    """Customers as syncd's identity resolution sees them."""


@customers_group.command("explain")
@click.argument("customer_id", type=int)
@with_store(reads_only=True)
def explain(store: Store, customer_id: int) -> None:
    """Why records were merged into customer ID: each record with the keys that matched.

    Lists the records that made the customer what it is: 1C partners, CRM
    customers, and receipts that made it, brought a key or a fuller name, or
    merged two customers.  A repeat purchase matched by a known key is not
    listed (its order in the CRM is under the customer).
    """
    from syncd.identity import index

    with store.read() as conn:
        told = index.explain(conn, customer_id)
    if told is None:
        click.echo(f"no customer {customer_id}", err=True)
        sys.exit(1)
    if told["merged_into"]:
        click.echo(f"customer {customer_id} was folded into {told['merged_into']}")
    click.echo(json.dumps(told, ensure_ascii=False, indent=2))


class _DryRun(Exception):
    pass


@customers_group.command("merge")
@config_option
@click.option(
    "--apply",
    "apply_",
    is_flag=True,
    help="Combine them in the CRM (needs crm.merge_duplicates: true).",
)
@click.option("--dry-run", is_flag=True, help="Only report (the default).")
def merge(config_path: str | None, apply_: bool, dry_run: bool) -> None:
    """Find CRM customers that are one person (by card, phone, e-mail) and report them;
    with --apply, combine each group into its oldest customer (customers/combine)."""
    from syncd.commands.customers_model import _customers_mapping
    from syncd.connectors.retailcrm.client import client_for
    from syncd.engine.contracts import PartContext

    settings = settings_or_exit(config_path)
    if apply_ and dry_run:
        raise click.UsageError("--apply and --dry-run exclude each other")
    if apply_ and not settings.crm.merge_duplicates:
        click.echo("combining customers is off: set crm.merge_duplicates: true", err=True)
        sys.exit(2)
    resolver = _customers_mapping(settings).resolver()
    crm = client_for(PartContext(settings, None), 5.0, "syncd customers merge")
    records = [crm_customer_record(c) for c in crm.customers(limit=100)]
    store = open_store(settings)
    groups: dict[int, list[int]] = {}
    try:
        with store.begin() as conn:
            for a in resolver.resolve(conn, records):
                if a.identity is not None:
                    groups.setdefault(a.identity, []).append(int(a.record.source_id))
            if not apply_:
                raise _DryRun  # a report binds nothing
    except _DryRun:
        pass
    finally:
        store.dispose()
    duplicates = {i: sorted(ids) for i, ids in groups.items() if len(ids) > 1}
    if not duplicates:
        click.echo(f"{len(records)} CRM customers, no duplicates found")
        return
    for identity, ids in sorted(duplicates.items()):
        action = "combined into" if apply_ else "would be combined into"
        click.echo(
            f"customers {', '.join(map(str, ids[1:]))} {action} {ids[0]} (person #{identity})"
        )
        if apply_:
            crm.combine_customers(ids[1:], ids[0])
    click.echo(f"{len(duplicates)} group(s) of duplicates among {len(records)} CRM customers")


def crm_customer_record(customer: dict) -> Record:
    """A CRM customer as identity sees it: names, birthday, phones, e-mail, discount card
    and address (the Customer entity's fields; the address's parts as an order's
    delivery address names them: index, city, street, building or house)."""
    from syncd.identity.keys import Record

    address = customer.get("address") or {}
    return Record(
        "crm",
        str(customer["id"]),
        f"{customer.get('firstName') or ''} {customer.get('lastName') or ''}".strip(),
        phones=[p.get("number") or "" for p in customer.get("phones") or []],
        emails=[customer.get("email") or ""],
        cards=[str(customer.get("discountCardNumber") or "")],
        given=str(customer.get("firstName") or ""),
        surname=str(customer.get("lastName") or ""),
        patronymic=str(customer.get("patronymic") or ""),
        birth_date=str(customer.get("birthday") or ""),
        street=str(address.get("street") or ""),
        house=str(address.get("building") or address.get("house") or ""),
        postcode=str(address.get("index") or ""),
        city=str(address.get("city") or ""),
    )


def _register() -> None:
    from syncd.commands.customers_model import import_command, split_command, train_command

    for command in (import_command, train_command, split_command):
        customers_group.add_command(command)


_register()
