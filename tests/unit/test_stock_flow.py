"""The stock flow, pure: an offer's stock from 1C against what syncd keeps."""

from __future__ import annotations

from decimal import Decimal

import pytest

from syncd.config import Settings
from syncd.connectors.retailcrm.actions import INVENTORY_ACTIONS as ACTIONS
from syncd.connectors.retailcrm.actions import Inventory
from syncd.engine.actions import check
from syncd.engine.contracts import FlowContext, PartContext
from syncd.flows.stock import StockFlow
from syncd.model import Event, Outcome


class KeptStock(FlowContext):
    """What syncd keeps, as ``ctx.stock`` answers it."""

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        self.rows = rows

    def stock(self, offers):  # noqa: ANN001, ANN201
        wanted = set(offers)
        rows = [(o, s, a) for o, s, a in self.rows if o in wanted]
        return [{"offer": o, "store": s, "available": Decimal(a)} for o, s, a in rows]

    def binding(self, *args):  # noqa: ANN002, ANN201
        return None

    def counterpart(self, *args):  # noqa: ANN002, ANN201
        return None

    def facts(self, *args):  # noqa: ANN002, ANN201
        return None

    def pending(self, *args):  # noqa: ANN002, ANN201
        return None


def flow() -> StockFlow:
    context = PartContext(Settings(), None)
    return StockFlow("stock_to_crm", "erp", ["stock"], "crm_stock", StockFlow.Options(), context)


def event(stores: dict, offer: str = "A-1", site: str | None = None) -> Event:
    payload = {"offer": offer, "site": site, "stores": stores}
    return Event("erp", "stock", offer, "1.000", payload, changed_at=1.0, stream="erp_stock")


def test_a_changed_store_is_kept_and_the_offer_pushed_with_every_store():
    ctx = KeptStock([("A-1", "main-store", "5"), ("A-1", "pickup-point", "2")])
    plan = flow().plan(event({"main-store": "3", "pickup-point": "2"}), ctx)
    assert plan.outcome == Outcome.UPDATED
    assert plan.stock == [("A-1", "main-store", Decimal("3"))]
    [command] = plan.commands
    assert (command.target, command.entity, command.key, command.action) == (
        "crm_stock", "inventory", "A-1", "inventory"
    )  # fmt: skip
    assert command.payload == {
        "stores": [{"code": "main-store", "available": 3}, {"code": "pickup-point", "available": 2}]
    }
    check(command, ACTIONS, "crm_stock")  # one of the inventory sink's actions


def test_stock_as_kept_plans_nothing():
    ctx = KeptStock([("A-1", "main-store", "5")])
    plan = flow().plan(event({"main-store": "5.000"}), ctx)
    assert plan.outcome == Outcome.UNCHANGED and not plan.commands and not plan.stock


def test_zero_in_a_store_never_kept_is_no_change_but_zero_after_stock_is():
    assert not flow().plan(event({"main-store": "0"}), KeptStock([])).commands
    plan = flow().plan(event({"main-store": "0"}), KeptStock([("A-1", "main-store", "4")]))
    assert plan.stock == [("A-1", "main-store", Decimal("0"))]
    assert plan.commands[0].payload["stores"] == [{"code": "main-store", "available": 0}]


def test_fractions_stay_exact_and_the_site_goes_with_the_offer():
    plan = flow().plan(event({"main-store": "1.5"}, site="shop"), KeptStock([]))
    assert plan.stock == [("A-1", "main-store", Decimal("1.5"))]
    assert Inventory.of(plan.commands[0]).site == "shop"
    assert plan.commands[0].payload["stores"] == [{"code": "main-store", "available": 1.5}]


@pytest.mark.parametrize(
    ("stores", "named"),
    [({"main-store": "много"}, "payload.stores.main-store"), ({"main-store": "-1"}, "0 or more"),
     ({}, "payload.stores")],
)  # fmt: skip
def test_a_bad_amount_is_an_error_naming_the_store(stores, named):
    with pytest.raises(ValueError, match=named):
        flow().plan(event(stores), KeptStock([]))
