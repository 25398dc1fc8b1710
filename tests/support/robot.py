"""The order robot's test material: a new CRM order it may agree, stock, one condition broken."""

from __future__ import annotations

import copy
import json

from syncd.flows.order_robot import StockRows
from tests.support.paths import FIXTURES

ROBOT = FIXTURES / "retailcrm" / "robot"
STOCK = ROBOT / "stock.json"


def agreeable() -> dict:
    """orders/{id} -> order: all five conditions hold against ``stock()``."""
    return json.loads((ROBOT / "order_agreeable.json").read_text(encoding="utf-8"))["order"]


def stock() -> StockRows:
    return StockRows(json.loads(STOCK.read_text(encoding="utf-8")))


def without(body: dict, condition: str) -> dict:
    """``body`` changed so that exactly ``condition`` fails."""
    body = copy.deepcopy(body)
    if condition == "total_below":
        body["totalSumm"] = 10000
        body["payments"]["3307"]["amount"] = 10000
    elif condition == "no_customer_comment":
        body["customerComment"] = "Позвоните перед доставкой, домофон не работает"
    elif condition == "paid":
        body["payments"]["3307"]["status"] = "not-paid"
    elif condition == "address":
        body["delivery"]["address"] = {"countryIso": "RU", "text": " "}
    elif condition == "in_stock":
        body["items"][1]["quantity"] = 2  # 1 free in the shipment store
    return body
