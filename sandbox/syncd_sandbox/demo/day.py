"""A day of business played against the sandboxes, and what syncd made of it.

Each hour: new site orders appear in 1C; a manager agrees most of the new
orders in the CRM ("client-confirmed") and cancels a few; the warehouse ships
agreed orders in 1C.  Every action leaves an expectation — the order in the
CRM as "new", the agreed order posted in 1C, the cancelled lines in 1C, the
shipped status in the CRM — and ``observe`` notes when each one came true,
which is the lag syncd added.  With ``notify`` the player also nudges the
daemon as 1C's event subscription and RetailCRM's trigger would.

    player = DayPlayer(world, seed=7, notify=webhooks.post)
    player.expect_initial_orders()
    player.hour(9); player.observe(); player.stats()
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

ORDERS = "Document_ЗаказКлиента"
ERP_TO_CRM, CRM_TO_ERP, INITIAL = "1C→CRM", "CRM→1C", "initial load"
SHIPPED_OR_LATER = ("send-to-delivery", "delivering", "redirect", "delivered", "complete")


@dataclass
class Expectation:
    direction: str
    what: str
    ref: str
    started: float
    check: Callable[[], bool]
    done_at: float | None = None


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


class DayPlayer:
    def __init__(
        self,
        world,  # noqa: ANN001 - syncd_sandbox.demo.world.World
        *,
        seed: int = 7,
        notify: Callable[[str, dict], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        per_hour: int = 12,
    ) -> None:
        self.per_hour = per_hour
        self.world, self.rnd, self.notify, self.clock = world, random.Random(seed), notify, clock
        self.expectations: list[Expectation] = []
        self.agreed: dict[str, float] = {}  # 1C ref -> when agreed in the CRM
        self.cancelled: set[str] = set()
        self.shipped: set[str] = set()
        self.actions = {"new orders": 0, "agreed": 0, "cancelled": 0, "shipped": 0}

    # -- what people do --------------------------------------------------------
    def expect_initial_orders(self) -> None:
        """The sample orders reach the CRM in the initial load (not counted as lag)."""
        for order in self.world.erp.state.rows(ORDERS):
            ref = order["Ref_Key"]
            self._expect(INITIAL, "initial order", ref, lambda r=ref: self._crm(r) is not None)

    def hour(self, hour: int) -> None:
        busy = 9 <= hour % 24 <= 21
        for _ in range(self.rnd.randint(2, 6) if busy else self.rnd.randint(0, 1)):
            self.new_site_order()
        # a manager handles up to a dozen orders an hour: most agreed, a few cancelled
        for order in self.crm_orders_waiting()[: self.per_hour]:
            if self.rnd.random() < 0.9:
                self.agree(order)
            else:
                self.cancel(order)
        for ref in [r for r in self.agreed if r not in self.shipped and r not in self.cancelled]:
            if self._agreed_in_erp(ref) and self.rnd.random() < 0.8:
                self.ship(ref)

    def new_site_order(self) -> None:
        state = self.world.erp.state
        partner = self.rnd.choice(state.rows("Catalog_Партнеры"))["Ref_Key"]
        goods = self.rnd.sample(state.rows("Catalog_Номенклатура"), k=self.rnd.randint(1, 3))
        lines = [
            (g["Ref_Key"], self.rnd.randint(1, 3), float(self.rnd.randint(5, 900) * 10))
            for g in goods
        ]
        order = self.world.erp.trade.new_site_order(partner, lines)
        self.actions["new orders"] += 1
        self._expect_in_crm(order["Ref_Key"], "new order")
        self._nudge("1c", {"type": ORDERS, "ref": order["Ref_Key"]})

    def agree(self, order: dict) -> None:
        ref = order["externalId"]
        self.world.crm.state.edit("order", order, {"status": "client-confirmed"}, author="user")
        self.agreed[ref] = self.clock()
        self.actions["agreed"] += 1
        self._expect(CRM_TO_ERP, "agreed", ref, lambda: self._agreed_in_erp(ref))
        self._nudge("crm", {"order_id": str(order["id"])})

    def cancel(self, order: dict) -> None:
        ref = order["externalId"]
        self.world.crm.state.edit("order", order, {"status": "cancel-other"}, author="user")
        self.cancelled.add(ref)
        self.actions["cancelled"] += 1
        self._expect(CRM_TO_ERP, "cancelled", ref, lambda: self._cancelled_in_erp(ref))
        self._nudge("crm", {"order_id": str(order["id"])})

    def ship(self, ref: str) -> None:
        self.world.erp.trade.ship(ref)
        self.shipped.add(ref)
        self.actions["shipped"] += 1
        self._expect(
            ERP_TO_CRM,
            "shipped",
            ref,
            # or past it: the couriers may deliver it before anyone looks
            lambda: (self._crm(ref) or {}).get("status") in SHIPPED_OR_LATER,
        )
        self._nudge("1c", {"type": ORDERS, "ref": ref})

    # -- what syncd made of it -------------------------------------------------
    def observe(self) -> None:
        now = self.clock()
        for e in self.expectations:
            if e.done_at is None and e.check():
                e.done_at = now

    def stats(self) -> dict:
        done = [e for e in self.expectations if e.done_at is not None]
        lags = {
            d: [e.done_at - e.started for e in done if e.direction == d]  # type: ignore[operator]
            for d in (ERP_TO_CRM, CRM_TO_ERP)
        }
        return {
            "actions": dict(self.actions),
            "initial": sum(1 for e in done if e.direction == INITIAL),
            "synced": {d: len(v) for d, v in lags.items()},
            "waiting": sum(1 for e in self.expectations if e.done_at is None),
            "waiting_for": sorted(
                {f"{e.direction}: {e.what}" for e in self.expectations if e.done_at is None}
            ),
            "lag": {
                d: {
                    "mean": sum(v) / len(v) if v else None,
                    "p50": percentile(v, 0.5),
                    "p99": percentile(v, 0.99),
                    "max": max(v, default=None),
                }
                for d, v in lags.items()
            },
        }

    def settled(self) -> bool:
        return all(e.done_at is not None for e in self.expectations)

    # -- helpers ---------------------------------------------------------------
    def _expect(self, direction: str, what: str, ref: str, check: Callable[[], bool]) -> None:
        self.expectations.append(Expectation(direction, what, ref, self.clock(), check))

    def _expect_in_crm(self, ref: str, what: str) -> None:
        self._expect(ERP_TO_CRM, what, ref, lambda: self._crm(ref) is not None)

    def _crm(self, ref: str) -> dict | None:
        return self.world.crm.state.find("order", ref, "externalId", None)

    def crm_orders_waiting(self) -> list[dict]:
        with self.world.crm.state.lock:
            orders = list(self.world.crm.state.records["order"].values())
        return [o for o in orders if o.get("status") == "new" and o.get("externalId")]

    def _agreed_in_erp(self, ref: str) -> bool:
        order = self.world.erp.state.get(ORDERS, (ref,))
        return bool(order["Согласован"] and order["Posted"])

    def _cancelled_in_erp(self, ref: str) -> bool:
        lines = self.world.erp.state.get(ORDERS, (ref,))["Товары"]
        return bool(lines) and all(line["Отменено"] for line in lines)

    def _nudge(self, system: str, body: dict) -> None:
        if self.notify is not None:
            self.notify(system, body)
