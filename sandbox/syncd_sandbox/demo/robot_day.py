"""The demo's day with the seed's whole order process: the robot, the operators, the couriers.

Site orders appear in 1C, most of them paid (1C's payment state), some for a
courier with an address; syncd brings them into the CRM, where its order
robot agrees what meets every condition and hands the rest to the operators
("Требует согласования").  The operators agree most of what they get, cancel a
few, and cannot reach some customers ("Недозвон"): syncd brings those orders
back three hours later, and cancels them at the fourth missed call.  The
warehouse ships agreed orders in 1C and the couriers deliver them; the CRM
follows to "delivered".

The demo's hours pass faster than real ones, so the daemon's clock for timers
is moved forward an hour each hour (``advance``, the runner's
``SYNCD_CLOCK_OFFSET_FILE``).  Every action leaves an expectation, like the
plain day's (``day.DayPlayer``); the chain's returns and the deliveries have
their own directions, left out of the lag figures.

    player = RobotDay(world, advance=clock.forward)
    player.hour(9); player.observe(); player.stats()["robot"]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from syncd_sandbox.demo.day import CRM_TO_ERP, ERP_TO_CRM, DayPlayer

ROBOT, CHAIN, DELIVERY = "robot", "call chain", "delivery"
NEEDS_AGREEMENT, NO_CALL, AGREED = "requires-agreement", "no-call", "client-confirmed"
CANCEL_AT = 4  # robot.yaml call_chain.cancel_at (shipped)
OPERATORS = (2, 3, 4, 5)  # the sandbox account's managers


class RobotDay(DayPlayer):
    def __init__(
        self,
        world,  # noqa: ANN001 - syncd_sandbox.demo.world.World
        *,
        advance: Callable[[float], None] = lambda seconds: None,
        **options: Any,  # noqa: ANN401
    ) -> None:
        super().__init__(world, **options)
        self.advance = advance
        self.misses: dict[str, int] = {}  # 1C ref -> missed calls so far
        self.robot_seen: set[str] = set()
        self.by_robot: dict[str, str] = {}  # 1C ref -> the robot's status
        self.delivered: set[str] = set()
        self.actions.update({"no answer": 0, "delivered": 0})

    # -- what people do --------------------------------------------------------
    def hour(self, hour: int) -> None:
        self.advance(3600.0)  # an hour of the day: timers due in it fire
        busy = 9 <= hour % 24 <= 21
        for _ in range(self.rnd.randint(2, 6) if busy else self.rnd.randint(0, 1)):
            self.new_site_order()
        for order in self.operators_queue()[: self.per_hour]:
            self.call(order)
        for ref in [r for r in self.agreed if r not in self.shipped and r not in self.cancelled]:
            if self._agreed_in_erp(ref) and self.rnd.random() < 0.8:
                self.ship(ref)
        for ref in [r for r in self.shipped if r not in self.delivered]:
            if self.rnd.random() < 0.7:
                self.deliver(ref)

    def night(self) -> None:
        """The hours after the day: the last missed calls' timers come due."""
        self.advance(4 * 3600.0)

    def new_site_order(self) -> None:
        state, trade = self.world.erp.state, self.world.erp.trade
        partner = self.rnd.choice(state.rows("Catalog_Партнеры"))["Ref_Key"]
        goods = self.rnd.sample(state.rows("Catalog_Номенклатура"), k=self.rnd.randint(1, 2))
        lines = [
            (g["Ref_Key"], self.rnd.randint(1, 2), float(self.rnd.randint(5, 250) * 10))
            for g in goods
        ]
        if self.rnd.random() < 0.08:  # now and then a big order: the operators check it
            lines[0] = (lines[0][0], 1, float(self.rnd.randint(1100, 3000) * 10))
        ref = trade.new_site_order(partner, lines)["Ref_Key"]
        courier = self.rnd.random()
        if courier < 0.25:  # a courier delivery, nearly always with its address
            address = "" if courier < 0.02 else f"Москва, ул. Лесная, д. {self.rnd.randint(1, 90)}"
            trade.manager_edit(ref, {"СпособДоставки": "ДоКлиента", "АдресДоставки": address})
        if self.rnd.random() < 0.85:  # paid on the site: 1C's payment state says so
            trade.pay(ref, 100.0)
        self.actions["new orders"] += 1
        self._expect_in_crm(ref, "new order")
        self._expect(ROBOT, "decided", ref, lambda: self._robot_decided(ref))
        self._nudge("1c", {"type": "Document_ЗаказКлиента", "ref": ref})

    def call(self, order: dict) -> None:
        """An operator calls the customer of an order the robot handed over."""
        ref = order["externalId"]
        misses = self.misses.get(ref, 0)
        roll = self.rnd.random()
        if roll < (0.25 if misses else 0.7):
            self.agree(order)
        elif roll < 0.92:
            self.no_answer(order)
        else:
            self.cancel(order)

    def no_answer(self, order: dict) -> None:
        ref = order["externalId"]
        self.misses[ref] = miss = self.misses.get(ref, 0) + 1
        manager = order.get("managerId") or self.rnd.choice(OPERATORS)  # who called
        changes = {"status": NO_CALL, "managerId": manager}
        self.world.crm.state.edit("order", order, changes, author="user")
        self.actions["no answer"] += 1
        if miss < CANCEL_AT:
            text = f"Недозвон {miss} из {CANCEL_AT - 1}"
            self._expect(CHAIN, "back to the operators", ref, lambda: self._returned(ref, text))
        else:  # the last: syncd cancels it, and 1C with it
            self.cancelled.add(ref)
            self._expect(CHAIN, "cancelled", ref, lambda: self._cancelled_in_erp(ref))
        self._nudge("crm", {"order_id": str(order["id"])})

    def deliver(self, ref: str) -> None:
        self.world.erp.trade.delivery_status(ref, "Доставлен")
        self.delivered.add(ref)
        self.actions["delivered"] += 1
        self._expect(
            DELIVERY,
            "delivered",
            ref,
            lambda: (self._crm(ref) or {}).get("status") == "delivered",
        )
        self._nudge("1c", {"type": "InformationRegister_СтатусыСборкиИДоставки", "ref": ref})

    # -- what syncd made of it -------------------------------------------------
    def stats(self) -> dict:
        stats = super().stats()
        agreed_by_robot = sum(1 for s in self.by_robot.values() if s == AGREED)
        # of the day's new orders (the initial load's are the operators' backlog)
        agreed_by_people = sum(
            1 for r, s in self.by_robot.items() if s == NEEDS_AGREEMENT and r in self.agreed
        )
        handed = sum(1 for s in self.by_robot.values() if s == NEEDS_AGREEMENT)
        chains_out = sum(1 for m in self.misses.values() if m >= CANCEL_AT)
        stats["robot"] = {
            "decided": len(self.by_robot),
            "agreed": agreed_by_robot,
            "handed_over": handed,
            "agreed_by_people": agreed_by_people,
            "share": agreed_by_robot / (agreed_by_robot + agreed_by_people)
            if agreed_by_robot + agreed_by_people
            else None,
            "no_answer": self.actions["no answer"],
            "chains_run_out": chains_out,
            "delivered": sum(
                1 for e in self.expectations if e.direction == DELIVERY and e.done_at is not None
            ),
        }
        return stats

    # -- helpers ---------------------------------------------------------------
    def operators_queue(self) -> list[dict]:
        with self.world.crm.state.lock:
            orders = list(self.world.crm.state.records["order"].values())
        waiting = [o for o in orders if o.get("status") == NEEDS_AGREEMENT and o.get("externalId")]
        # the day's orders first (the initial load's are the backlog behind them)
        return sorted(waiting, key=lambda o: o["externalId"] not in self.by_robot)

    def _robot_decided(self, ref: str) -> bool:
        order = self._crm(ref) or {}
        status = order.get("status")
        if status in (AGREED, NEEDS_AGREEMENT) and "Робот" in str(order.get("statusComment")):
            if ref not in self.by_robot:
                self.by_robot[ref] = status
                if status == AGREED:  # on to 1C with no person: the warehouse may pick
                    self.agreed[ref] = self.clock()
                    self._expect(CRM_TO_ERP, "agreed", ref, lambda: self._agreed_in_erp(ref))
            return True
        return status not in (None, "new")  # a person was first

    def _returned(self, ref: str, text: str) -> bool:
        order = self._crm(ref) or {}
        return text in str(order.get("statusComment")) or order.get("status") not in (
            NO_CALL,
            NEEDS_AGREEMENT,
        )


__all__ = ["ERP_TO_CRM", "CRM_TO_ERP", "RobotDay"]
