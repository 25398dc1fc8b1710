"""``syncd robot check``: what the order robot decides for one CRM order, before a reload.

For an admin changing ``robot.yaml``: the rules are read from the mappings
folder as they are now (the running daemon keeps its own until a reload), the
order from a file, the stock from a file or else from syncd's store.

    syncd robot check --order order.json [--stock stock.json]
    {"decision": "needs_agreement", "reasons": ["paid 0 of 3450"], "checks": [...]}

The order file holds a CRM order as ``orders/{id}`` answers it under ``order``
(the whole answer is taken too); the stock file a JSON list of ``{"offer":
<offer externalId>, "store": <CRM store code>, "available": <number>}``.  Exit
0 whatever the decision; 2 with a one-line reason when a file cannot be read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from syncd.commands.common import config_option, open_existing_store, settings_or_exit
from syncd.flows.order_robot import StockRows, decide
from syncd.flows.robot_order import RobotOrder
from syncd.mappings.load import MappingError, load_mappings
from syncd.mappings.robot import RobotMapping


def _fail(message: str) -> None:
    click.echo(f"syncd robot: {message}", err=True)
    sys.exit(2)


def _json_file(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        _fail(f"cannot read the {what} file {path}: {exc.strerror or exc}")
    except UnicodeDecodeError:
        _fail(f"the {what} file {path} is not UTF-8 text")
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        _fail(f"the {what} file {path} is not JSON: {where}: {exc.msg}")


def _order_body(data: Any, path: str) -> dict:
    if isinstance(data, dict) and isinstance(data.get("order"), dict):
        data = data["order"]  # the whole answer of orders/{id}
    if not isinstance(data, dict):
        _fail(f"the order file {path} holds no CRM order object")
    return data


def _stock_rows(data: Any, path: str) -> list[dict]:
    if not isinstance(data, list):
        _fail(f"the stock file {path} is not a JSON list of {{offer, store, available}}")
    for i, row in enumerate(data, 1):
        try:
            StockRows([row])
        except (KeyError, TypeError, ArithmeticError, ValueError):
            _fail(f"the stock file {path}: row {i} needs offer, store and a numeric available")
    return data


def _rules(settings: Any) -> RobotMapping:
    try:
        mappings = load_mappings(settings.mappings_dir)
    except MappingError as exc:
        _fail(f"the mappings do not load: {exc.problems[0]}")
    if mappings.robot is None:
        _fail(f"no robot.yaml in {settings.mappings_dir}: the robot is off")
    return mappings.robot


@click.group("robot")
def robot_group() -> None:
    """The order robot: which new orders it agrees by itself, and why not."""


@robot_group.command("check")
@config_option
@click.option("--order", "order_path", required=True, help="A CRM order as JSON.")
@click.option("--stock", "stock_path", help="Free stock as JSON (default: syncd's store).")
def robot_check(config_path: str | None, order_path: str, stock_path: str | None) -> None:
    """Decide one CRM order by the rules in robot.yaml; print the decision as JSON."""
    settings = settings_or_exit(config_path)
    rules = _rules(settings)
    order = RobotOrder.from_crm(_order_body(_json_file(order_path, "order"), order_path))
    if stock_path:
        rows = _stock_rows(_json_file(stock_path, "stock"), stock_path)
    else:
        from syncd.store import stock

        store = open_existing_store(settings)
        try:
            with store.read() as conn:
                rows = stock.rows_of(conn, [line.offer for line in order.lines if line.offer])
        finally:
            store.dispose()
    decision = decide(rules, order, StockRows(rows))
    click.echo(json.dumps(decision.as_json(), ensure_ascii=False, indent=2))


def _decision_of(conn: Any, order: str) -> tuple[str, dict | None]:
    """The robot's facts of ``order``: its externalId, else its CRM id or number."""
    from sqlalchemy import select

    from syncd.flows.robot_agreement import decision_ref
    from syncd.store import bindings
    from syncd.store.schema import bindings as table

    found = bindings.get(conn, *decision_ref(order))
    if found is not None:
        return order, found.facts
    by_id = conn.execute(
        select(table.c.external_id).where(
            table.c.system == "crm", table.c.entity == "order", table.c.remote_id == order
        )
    ).scalar()
    if by_id is not None:
        found = bindings.get(conn, *decision_ref(by_id))
        return by_id, found.facts if found is not None else None
    return order, None


def _move_state(conn: Any, ref: str) -> str | None:
    """Where the robot's status move for ``ref`` stands in the outbox."""
    from sqlalchemy import select

    from syncd.store.schema import outbox

    return conn.execute(
        select(outbox.c.state)
        .where(
            outbox.c.object_id == ref,
            outbox.c.action == "move_status",
            outbox.c.flow == ROBOT_FLOW,
        )
        .order_by(outbox.c.id.desc())
        .limit(1)
    ).scalar()


ROBOT_FLOW = "order_robot"


@robot_group.command("explain")
@config_option
@click.argument("order")
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
def robot_explain(config_path: str | None, order: str, as_json: bool) -> None:
    """What the robot decided for ORDER (its externalId, CRM id) and why: each condition's
    value and where it was read.  Exit 1 when the robot has not decided it."""
    settings = settings_or_exit(config_path)
    store = open_existing_store(settings)
    try:
        with store.read() as conn:
            ref, facts = _decision_of(conn, order)
            move = _move_state(conn, ref) if facts else None
    finally:
        store.dispose()
    if not facts:
        click.echo(f"the robot has not decided order {order} (yet)")
        sys.exit(1)
    shown = {"order": ref, **facts, **({"move": move} if move else {})}
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    if "skipped" in facts:
        click.echo(f"order {ref}: not decided by the robot: {facts['skipped']}")
        return
    number = facts.get("number") or "?"
    click.echo(f"order {ref} (CRM {facts.get('id')}, № {number}): {facts['decision']}")
    click.echo(f"  status set: {facts.get('status')}  (move: {move or 'not queued'})")
    for check in facts.get("checks") or []:
        mark = "ok  " if check["ok"] else "FAIL"
        click.echo(f"  {mark} {check['condition']:<20} {check['value']}  [{check['source']}]")
