"""``syncd customers import | train | split``: loading people, learning, undoing a merge."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from syncd.commands.common import config_option, open_store, settings_or_exit


def _customers_mapping(settings):  # noqa: ANN001, ANN202
    from syncd.mappings.load import MappingError, load_mappings

    try:
        return load_mappings(settings.mappings_dir).customers
    except MappingError as exc:
        click.echo(f"mappings are not valid:\n{exc}", err=True)
        sys.exit(2)


@click.command("import")
@config_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write record_id,customer_id here, one line per input record.",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Rows rejected or fields left out (default: OUT with .rejects.csv).",
)
@click.option(
    "--source",
    default="import",
    show_default=True,
    help="What the records are bound as: importing again under it changes nothing.",
)
@click.option(
    "--distinct",
    is_flag=True,
    help="model: no two rows of FILE are one person (a base already deduplicated).",
)
@click.option(
    "--train/--no-train",
    default=True,
    show_default=True,
    help="model: learn the weights from the file first when the store has none.",
)
def import_command(
    config_path: str | None,
    file: Path,
    out: Path,
    rejects: Path | None,
    source: str,
    distinct: bool,
    train: bool,
) -> None:
    """Resolve every record of FILE (CSV or JSON lines) into the store's customers.

    Columns: id, given_name, surname, patronymic, birth_date, phone, email, card,
    street, house, postcode, city (any empty; or name for a full name).  The
    resolver is the daemon's (customers.yaml matching).  OUT gets each record's
    final customer after every merge; a record nothing identifies has none.
    """
    from syncd.identity import importing, model_store

    settings = settings_or_exit(config_path)
    customers = _customers_mapping(settings)
    resolver = customers.resolver()
    if distinct:
        if customers.matching.method != "model":
            click.echo("--distinct needs customers.yaml matching.method: model", err=True)
            sys.exit(2)
        resolver.distinct_sources = frozenset({source})
    rejects = rejects or out.with_suffix(".rejects.csv")
    store = open_store(settings)
    try:
        if train and customers.matching.method == "model":
            with store.read() as conn:
                _, _, trained_at = model_store.load(conn)
            if trained_at is None:
                _train_from_file(store, file, source)
        total = importing.count_rows(file)
        with click.progressbar(length=total, label="resolving", file=sys.stderr) as bar:
            summary = importing.import_file(store, resolver, file, out, rejects, source, bar.update)
    except importing.Unreadable as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    finally:
        store.dispose()
    for problem in summary.problems:
        click.echo(f"{file}: {problem}", err=True)
    click.echo(
        f"{summary.records} records: {summary.customers} customers "
        f"({summary.new_customers} new, {summary.merges} merges), "
        f"{summary.anonymous} with nothing to match by, {summary.rejects} rejected, "
        f"{summary.fields_left_out} fields left out"
    )
    click.echo(
        f"map: {out}"
        + (f"; rejects: {rejects}" if summary.rejects or summary.fields_left_out else "")
    )


def _train_from_file(store, file: Path, source: str) -> None:  # noqa: ANN001
    from syncd.identity import importing, model_store
    from syncd.identity.people import person_of

    people = []
    for row in importing.rows(file):
        record = importing.record_of(row, source, [])
        if record is not None:
            people.append(person_of(record))
        if len(people) >= model_store.SAMPLE:
            break
    if len(people) < model_store.LEARN_FROM:
        click.echo(f"{file}: too few records to learn from: the shipped model decides", err=True)
        return
    click.echo(f"learning the model from {len(people)} records of {file} ...", err=True)
    model, tf = model_store.learn(people)
    with store.begin() as conn:
        model_store.save(conn, model, tf)


@click.command("train")
@config_option
def train_command(config_path: str | None) -> None:
    """Re-estimate the matching model from the store's own records (no labels)."""
    from syncd.identity import model_store

    settings = settings_or_exit(config_path)
    store = open_store(settings)
    try:
        with store.read() as conn:
            people = model_store.people_in_store(conn)
        if len(people) < model_store.LEARN_FROM:
            click.echo(
                f"only {len(people)} records in the store: the shipped model stays", err=True
            )
            sys.exit(1)
        model, tf = model_store.learn(people)
        with store.begin() as conn:
            model_store.save(conn, model, tf)
    finally:
        store.dispose()
    click.echo(f"learnt from {len(people)} records: weights in bits when a field agrees exactly")
    for name, fm in model.fields.items():
        click.echo(
            f"  {name:<12} {fm.weight(0):+6.1f}   different {fm.weight(len(fm.m) - 1):+6.1f}"
        )


@click.command("split")
@config_option
@click.argument("customer_id", type=int)
@click.option(
    "--record",
    "records",
    multiple=True,
    required=True,
    metavar="SOURCE:ID",
    help="A record that is another person (repeat for each).",
)
def split_command(config_path: str | None, customer_id: int, records: tuple[str, ...]) -> None:
    """Move the named records of CUSTOMER_ID to a new customer, kept apart from it for good."""
    from syncd.identity.splitting import SplitRefused, split

    refs = []
    for text in records:
        source, sep, rid = text.rpartition(":")
        if not sep or not source or not rid:
            raise click.BadParameter(
                f"{text!r}: write SOURCE:ID, e.g. pos:msk:r-1", param_hint="--record"
            )
        refs.append((source, rid))
    settings = settings_or_exit(config_path)
    store = open_store(settings)
    try:
        with store.begin() as conn:
            new_id = split(conn, customer_id, refs)
    except SplitRefused as exc:
        click.echo(f"not split: {exc}", err=True)
        sys.exit(1)
    finally:
        store.dispose()
    click.echo(
        f"{len(refs)} record(s) of customer {customer_id} are customer {new_id} now; "
        "the two are kept apart"
    )
