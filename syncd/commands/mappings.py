"""``syncd mappings validate | preview | schema``: the admin's mapping files."""

from __future__ import annotations

import difflib
import json
import re
import sys
import uuid
from pathlib import Path

import click

from syncd.commands.common import config_option, settings_or_exit


@click.group("mappings")
def mappings_group() -> None:
    """Check the mapping files and see what they would write."""


@mappings_group.command("validate")
@config_option
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False),
    default=None,
    help="Mappings folder (default: mappings_dir of the configuration).",
)
@click.option("--offline", is_flag=True, help="Do not check against 1C and the CRM.")
def validate(config_path: str | None, folder: str | None, offline: bool) -> None:
    """Check the files; then against 1C's $metadata and the CRM's statuses when reachable.

    Exit 0 when valid, 1 when a problem was found (each with file:line:column).
    """
    from syncd.config import ConfigError, load_settings
    from syncd.mappings.load import MappingError, load_mappings

    settings = None
    try:
        settings = load_settings(config_path)
    except ConfigError as exc:
        if folder is None:
            click.echo(f"configuration error:\n{exc}", err=True)
            sys.exit(2)
    path = Path(folder) if folder else settings.mappings_dir  # type: ignore[union-attr]
    try:
        mappings = load_mappings(path)
        if (path / "items.yaml").exists():  # the stock stream's names (optional)
            from syncd.mappings.items import load_items

            load_items(path / "items.yaml")
    except MappingError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    problems, notes = [], []
    if not offline and settings is not None:
        problems, notes = _live_checks(settings, mappings)
    for note in notes:
        click.echo(note)
    if problems:
        click.echo("\n".join(str(p) for p in problems), err=True)
        sys.exit(1)
    click.echo(f"{path}: valid")


def _live_checks(settings, mappings) -> tuple[list, list[str]]:  # noqa: ANN001
    """One try each (no retries): an admin waiting at a prompt wants an answer now."""
    from syncd.connectors.onec.odata import ODataClient
    from syncd.connectors.retailcrm.client import CrmClient
    from syncd.connectors.retailcrm.transport import CrmTransport
    from syncd.mappings.check import check_against_crm, check_against_erp, check_erp_values

    problems, notes = [], []
    erp, crm = settings.erp, settings.crm
    try:
        if not erp.odata_url or not erp.user or erp.password is None:
            raise ValueError("erp.odata_url, erp.user or erp.password is not set")
        client = ODataClient(
            erp.odata_url,
            erp.user,
            erp.password.get_secret_value(),
            attempts=1,
            timeout=(5.0, 60.0),
        )
        meta = client.metadata()
    except Exception as exc:  # noqa: BLE001 - unreachable or not configured: say so
        notes.append(f"not checked against 1C: {exc}")
    else:
        problems += check_against_erp(mappings, meta)
        notes.append("checked against 1C's $metadata")
        more, said = check_erp_values(mappings, meta, _observed(settings))
        problems += more
        notes += said
    try:
        if not crm.url or crm.api_key is None:
            raise ValueError("crm.url or crm.api_key is not set")
        transport = CrmTransport(
            crm.url,
            crm.api_key.get_secret_value(),
            site=crm.site,
            per_second=5.0,
            owner="syncd mappings validate",
            timeouts=crm.timeouts,
            attempts=1,
        )
        try:
            statuses = CrmClient(transport).statuses()
        finally:
            transport.close()
    except Exception as exc:  # noqa: BLE001
        notes.append(f"not checked against the CRM: {exc}")
    else:
        problems += check_against_crm(mappings, statuses)
        notes.append("checked against the CRM's order statuses")
    return problems, notes


def _observed(settings):  # noqa: ANN001, ANN202
    """What 1C has sent so far, from the store (None when there is no store to read yet)."""
    from syncd.doctor.usage import Usage
    from syncd.mappings.observed import read_observed
    from syncd.store import Store

    url = settings.database_url
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
        return None  # opening would create it
    store = Store.open(url)
    try:
        return read_observed(store, Usage.of(settings).erp_systems)
    except Exception:  # noqa: BLE001 - not migrated or unreachable: nothing learnt
        return None
    finally:
        store.dispose()


@mappings_group.command("preview")
@config_option
@click.option(
    "--erp-order",
    "order",
    required=True,
    help="The 1C order: its number as 1C writes it (ЗК-00000042), the bare number (42), "
    "or its Ref_Key.",
)
def preview(config_path: str | None, order: str) -> None:
    """Print the CRM order syncd would write for a 1C order, as a diff against the CRM."""
    from zoneinfo import ZoneInfo

    from syncd.connectors.onec.connection import erp_client_for
    from syncd.connectors.retailcrm.client import client_for
    from syncd.connectors.retailcrm.errors import CrmNotFound
    from syncd.engine.contracts import PartContext
    from syncd.flows.order_mapper import OrderMapper
    from syncd.mappings.load import MappingError, load_mappings
    from syncd.mappings.transforms import Zones

    settings = settings_or_exit(config_path)
    try:
        mappings = load_mappings(settings.mappings_dir)
    except MappingError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    context = PartContext(settings, None)
    erp = erp_client_for(context)
    meta = erp.metadata()
    set_name = mappings.orders.erp_set
    found, example = _erp_order(erp, set_name, order)
    if len(found) != 1:
        like = f"; 1C numbers them like {example!r}" if example else ""
        click.echo(f"1C has {len(found) or 'no'} order(s) {order!r} in {set_name}{like}", err=True)
        sys.exit(1)
    data = meta.entity(set_name).normalize(found[0])
    zones = Zones(
        ZoneInfo(settings.erp.timezone),
        ZoneInfo(settings.crm.timezone),
        mappings.customers.default_region,
    )
    mapper = OrderMapper(mappings, zones)
    side = mapper.erp_side(data)
    side.stage = mapper.erp_stage(side)
    wanted = mapper.crm_order(side, mapper.crm_status_for(side.stage or "new"))
    try:
        crm = client_for(context, 5.0, "syncd mappings preview")
        current = crm.get_order(str(data["Ref_Key"]).lower())
    except CrmNotFound:
        click.echo(f"not in the CRM yet; syncd would create (externalId {data['Ref_Key']}):")
        click.echo(json.dumps(wanted, ensure_ascii=False, indent=2))
        return
    shown = {k: current.get(k) for k in wanted}
    diff = difflib.unified_diff(
        json.dumps(shown, ensure_ascii=False, indent=2, sort_keys=True).splitlines(),
        json.dumps(wanted, ensure_ascii=False, indent=2, sort_keys=True).splitlines(),
        "the CRM now",
        "syncd would write",
        lineterm="",
    )
    text = "\n".join(diff)
    click.echo(text or "the CRM order already matches")


def _erp_order(erp, set_name: str, order: str) -> tuple[list[dict], str | None]:  # noqa: ANN001
    """The 1C orders ``order`` names — a Ref_Key, a number as 1C writes it (ЗК-00000042),
    or the bare number (42): padded as 1C pads that set's numbers, with their prefix —
    and one number of the set as an example for the error."""
    from syncd.connectors.onec.values import eq

    def where(flt: str) -> list[dict]:
        return erp.get_json(set_name, {"$filter": flt, "$top": 2}).get("value", [])

    try:
        return where(eq("Ref_Key", uuid.UUID(order))), None
    except ValueError:
        pass
    found = where(eq("Number", order))
    if found:
        return found, None
    sample = erp.get_json(set_name, {"$top": 1, "$select": "Number"}).get("value", [])
    example = str(sample[0].get("Number") or "") if sample else ""
    digits = re.search(r"\d+$", example)
    if order.isdigit() and digits and len(order) <= len(digits.group()):
        padded = example[: digits.start()] + order.zfill(len(digits.group()))
        return where(eq("Number", padded)), example
    return [], example or None


@mappings_group.command("schema")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False),
    default="mappings/schema",
    show_default=True,
)
def schema(folder: str) -> None:
    """Write the JSON Schemas of the mapping files (for editors)."""
    from syncd.mappings.model import write_schemas

    for path in write_schemas(Path(folder)):
        click.echo(path)
