"""`syncd check` says when the order robot would never hear of the orders syncd creates."""

from __future__ import annotations

from types import SimpleNamespace

from syncd.doctor.config_checks import order_robot_wiring


def ctx(own_created_as=None, robot=True):  # noqa: ANN001, ANN201
    options = {"own_created_as": own_created_as} if own_created_as else {}
    source = SimpleNamespace(kind="retailcrm_history", options=options)
    flows = [
        SimpleNamespace(name="order_robot", kind="order_robot", entities=["order_created", "order"])
    ]
    return SimpleNamespace(settings=SimpleNamespace(sources=[source], flows=flows if robot else []))


def test_a_robot_fed_by_the_history_passes():
    assert order_robot_wiring(ctx("order_created")).ok


def test_a_robot_without_the_created_orders_fails_with_the_fix():
    check = order_robot_wiring(ctx())
    assert not check.ok and "own_created_as: order_created" in check.fix


def test_no_robot_no_check():
    assert "no order_robot flow" in order_robot_wiring(ctx(robot=False)).detail
