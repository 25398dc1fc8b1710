"""`syncd robot check`: an admin tries the robot's rules on CRM order bodies before a reload."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from syncd.store import stock
from tests.support.daemon import write_config
from tests.support.paths import ROOT
from tests.support.robot import STOCK, agreeable, without


def config(tmp_path: Path, db_url: str, robot: bool = True) -> Path:
    mappings = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", mappings)
    if not robot:
        (mappings / "robot.yaml").unlink()
    return write_config(tmp_path, db_url, extra={"mappings_dir": str(mappings)})


def check(cfg: Path, order: Path, *more: str):  # noqa: ANN201
    return CliRunner().invoke(
        main, ["robot", "check", "--config", str(cfg), "--order", str(order), *more]
    )


def order_file(tmp_path: Path, body: dict, name: str = "order.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "condition", [None, "total_below", "no_customer_comment", "paid", "address", "in_stock"]
)
def test_each_order_body_gets_the_decision_the_rules_say(tmp_path, db_url, condition):
    body = agreeable() if condition is None else without(agreeable(), condition)
    result = check(config(tmp_path, db_url), order_file(tmp_path, body), "--stock", str(STOCK))
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["decision"] == ("agree" if condition is None else "needs_agreement")
    failed = [c["condition"] for c in out["checks"] if not c["ok"]]
    assert failed == ([] if condition is None else [condition])
    assert len(out["reasons"]) == len(failed)


def test_the_whole_answer_of_orders_get_is_taken_too(tmp_path, db_url):
    answer = {"success": True, "order": without(agreeable(), "paid")}
    result = check(config(tmp_path, db_url), order_file(tmp_path, answer), "--stock", str(STOCK))
    assert json.loads(result.output)["reasons"] == ["paid 0 of 3450"]


def test_without_a_stock_file_the_stores_stock_is_read(tmp_path, store, db_url):
    cfg, order = config(tmp_path, db_url), order_file(tmp_path, agreeable())
    with store.begin() as conn:
        stock.put(conn, [("nom-0c41", "main-warehouse", Decimal(2))], now=1.0)
    out = json.loads(check(cfg, order).output)
    assert out["reasons"] == ["not in stock in store 'main-warehouse': nom-0c42: no stock known"]
    with store.begin() as conn:
        stock.put(conn, [("nom-0c42", "main-warehouse", Decimal(1))], now=2.0)
    assert json.loads(check(cfg, order).output)["decision"] == "agree"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the order file"),
        ('{\n  "order": ', "is not JSON: line 2 column"),
        ("[1, 2]", "holds no CRM order object"),
    ],
)
def test_an_unreadable_order_file_exits_2_with_one_line(tmp_path, db_url, content, message):
    path = tmp_path / "order.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = check(config(tmp_path, db_url), path, "--stock", str(STOCK))
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_an_unreadable_stock_file_exits_2_naming_the_row(tmp_path, db_url):
    bad = tmp_path / "stock.json"
    bad.write_text(json.dumps([{"offer": "a", "store": "s", "available": 1}, {"offer": "b"}]))
    result = check(config(tmp_path, db_url), order_file(tmp_path, agreeable()), "--stock", str(bad))
    assert (
        result.exit_code == 2
        and "row 2 needs offer, store and a numeric available" in result.output
    )


def test_without_robot_yaml_the_check_says_the_robot_is_off(tmp_path, db_url):
    cfg = config(tmp_path, db_url, robot=False)
    result = check(cfg, order_file(tmp_path, agreeable()), "--stock", str(STOCK))
    assert result.exit_code == 2 and "no robot.yaml" in result.output
