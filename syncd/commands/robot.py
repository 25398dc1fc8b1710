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

from syncd.commands.common import config_option, open_store, settings_or_exit
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

        store = open_store(settings, migrate=False)
        try:
            with store.read() as conn:
                rows = stock.rows_of(conn, [line.offer for line in order.lines if line.offer])
        finally:
            store.dispose()
    decision = decide(rules, order, StockRows(rows))
    click.echo(json.dumps(decision.as_json(), ensure_ascii=False, indent=2))
