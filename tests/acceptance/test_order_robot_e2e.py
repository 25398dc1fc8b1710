"""The order robot end to end: both sandboxes, the daemon as a process.

Site orders are made in the sandbox 1C; syncd brings them into the CRM, where
the robot decides each: the one meeting all five conditions is agreed with no
person and posted in 1C for the warehouse; one failing each condition in turn
goes to "Требует согласования" with that reason in its status comment.  An
order a person moves while the robot is deciding keeps the person's status.

Free stock is set in syncd's store as the stock stream leaves it (its own path
from 1C is tested in the stock tests); 1C's payment state (ПроцентОплаты) is
what the robot counts as paid (robot.yaml payments.erp_paid_percent, shipped on), and the
1C order's Комментарий is the CRM's customerComment (orders.yaml, edited here),
as a site exchange fills them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from syncd.store import Store, stock
from tests.conftest import wait_until
from tests.support.daemon import start_daemon, stop, syncd
from tests.support.e2e import both_sandboxes, crm_order, e2e_env
from tests.support.erp import ORDERS
from tests.support.robot_e2e import edit_yaml, robot_config
from tests.support.stock import stock_parts

pytestmark = pytest.mark.slow
ADDRESS = "Москва, ул. Тверская, д. 7, кв. 3"


def robot_mappings(folder: Path) -> None:
    edit_yaml(
        folder / "orders.yaml",
        "  - erp: Комментарий\n    crm: managerComment\n    direction: both\n    owner: crm",
        "  - erp: Комментарий\n    crm: customerComment",
    )


def site_order(erp, item: str, *, qty=1.0, price=1500.0, paid=True, courier=True,  # noqa: ANN001
               address=ADDRESS, comment="") -> str:  # fmt: skip
    partner = erp.state.rows("Catalog_Партнеры")[0]["Ref_Key"]
    ref = erp.trade.new_site_order(partner, [(item, qty, price)])["Ref_Key"]
    changes = {"Комментарий": comment}
    if courier:
        changes |= {"СпособДоставки": "ДоКлиента", "АдресДоставки": address}
    erp.trade.manager_edit(ref, changes)
    if paid:
        erp.trade.pay(ref, 100.0)
    return ref


def decided(crm, ref: str) -> dict:  # noqa: ANN001
    return wait_until(
        lambda: (o := crm_order(crm, ref) or {}).get("status") != "new" and o.get("status") and o,
        what=f"the robot's decision on {ref}",
    )


def test_the_robot_agrees_what_meets_every_condition_and_hands_over_the_rest(tmp_path, db_url):
    with both_sandboxes(orders=0) as (erp, erp_url, crm, crm_url):
        item = erp.state.rows("Catalog_Номенклатура")[0]["Ref_Key"]
        store = Store.open(db_url)
        with store.begin() as conn:  # 10 free, as syncd last read 1C's stock
            stock.put(conn, [(item, "main", Decimal(10))], now=1.0)
        store.dispose()
        orders = {
            None: site_order(erp, item),
            "total_below": site_order(erp, item, price=20000.0),
            "no_customer_comment": site_order(erp, item, comment="Позвоните за час"),
            "paid": site_order(erp, item, paid=False),
            "address": site_order(erp, item, address=""),
            "in_stock": site_order(erp, item, qty=50.0, price=100.0),
        }
        env = e2e_env(erp_url, crm_url)
        config = robot_config(tmp_path, db_url, erp, edit_mappings=robot_mappings)
        daemon = start_daemon(config, env=env)
        try:
            agreed = decided(crm, orders[None])
            assert agreed["status"] == "client-confirmed"
            assert agreed["statusComment"].startswith("Робот: согласован")
            in_erp = wait_until(
                lambda: (o := erp.state.get(ORDERS, (orders[None],)))["Согласован"] and o,
                what="the robot's agreement posted in 1C",
            )
            assert in_erp["Статус"] == "КОбеспечению" and in_erp["Posted"] is True
            for condition, ref in orders.items():
                if condition is None:
                    continue
                order = decided(crm, ref)
                assert order["status"] == "requires-agreement", condition
                explained = syncd(
                    "robot", "explain", ref, "--json", "--config", str(config), env=env
                )
                facts = json.loads(explained.stdout)
                failed = [c["condition"] for c in facts["checks"] if not c["ok"]]
                assert failed == [condition]
                assert facts["reasons"][0] in order["statusComment"]
                assert not erp.state.get(ORDERS, (ref,))["Согласован"]  # still for the operators
        finally:
            stop(daemon)


def test_a_person_who_moves_the_order_while_the_robot_decides_keeps_it(tmp_path, db_url):
    with both_sandboxes(orders=0) as (erp, erp_url, crm, crm_url):
        item = erp.state.rows("Catalog_Номенклатура")[0]["Ref_Key"]
        ref = site_order(erp, item, paid=False)  # the robot hands it to the operators
        # the robot's move reads the order first: held there while the operator acts
        hold = crm.faults.hold("GET", rf"/orders/{ref}$")
        env = e2e_env(erp_url, crm_url)
        daemon = start_daemon(config := robot_config(tmp_path, db_url, erp), env=env)
        try:
            wait_until(lambda: hold.waiting == 1, what="the robot's move to read the order")
            crm.state.edit(
                "order", crm_order(crm, ref), {"status": "availability-confirmed"}, author="user"
            )
            hold.release()
            wait_until(
                lambda: (
                    '"move": "superseded"'
                    in syncd(
                        "robot", "explain", ref, "--json", "--config", str(config), env=env
                    ).stdout
                ),
                what="the robot's move set aside",
            )
            assert crm_order(crm, ref)["status"] == "availability-confirmed"
            assert "Робот" not in (crm_order(crm, ref).get("statusComment") or "")
        finally:
            stop(daemon)


def test_an_order_becomes_agreeable_when_its_item_arrives_in_1c(tmp_path, db_url):
    """1C's free stock read by the stock stream (Balance), kept for the robot and pushed to
    the CRM's inventories: the order placed before the goods came goes to the operators,
    the one placed after is agreed by the robot."""
    with both_sandboxes(orders=0) as (erp, erp_url, crm, crm_url):
        item = erp.state.rows("Catalog_Номенклатура")[0]["Ref_Key"]
        main = erp.state.rows("Catalog_Склады")[0]["Ref_Key"]
        crm.inventories.add_offers([item])
        parts = stock_parts(interval=0.5)
        config = robot_config(
            tmp_path,
            db_url,
            erp,
            edit_mappings=robot_mappings,
            extra_sources=parts["sources"],
            extra_flows=parts["flows"],
            extra_sinks=parts["sinks"],
        )
        erp.trade.receive_stock(item, main, 2)
        env = e2e_env(erp_url, crm_url)
        daemon = start_daemon(config, env=env)
        try:
            free = wait_until(
                lambda: crm.inventories.available(item).get("main-store"),
                what="the item's stock in the CRM's inventories",
            )
            early = site_order(erp, item, qty=free + 3, price=100.0)
            assert decided(crm, early)["status"] == "requires-agreement"
            assert "not in stock" in crm_order(crm, early)["statusComment"]

            erp.trade.receive_stock(item, main, free + 10)  # the goods arrive in 1C
            wait_until(
                lambda: (crm.inventories.available(item).get("main-store") or 0) >= free + 3,
                what="the arrival in the CRM's inventories",
            )
            later = site_order(erp, item, qty=free + 3, price=100.0)
            assert decided(crm, later)["status"] == "client-confirmed"
        finally:
            stop(daemon)
