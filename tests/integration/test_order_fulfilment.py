"""The order flow over the sandbox 1C's exchange plan: delivery states, payment state and
online payments, planned on a real store (both databases); no sink runs."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from syncd.engine.planning import plan_pending
from syncd.engine.sourcing import run_source
from syncd.flows.order_state import erp_paid_percent
from syncd.model import Event
from syncd.store import bindings, inbox, leases
from syncd.store.schema import outbox
from tests.support.daemon import order_flows, parts_of
from tests.support.erp import ORDERS, STATES, erp_env, erp_sandbox, exchange_source
from tests.support.paths import ROOT

DELIVERY = "InformationRegister_СтатусыСборкиИДоставки"
SETS = {ORDERS: "order", STATES: "order_state", DELIVERY: "delivery_state"}


class Bench:
    """The 1C exchange source and both order flows, over ``store``."""

    def __init__(self, tmp: Path, store, app, url: str, mappings: Path) -> None:  # noqa: ANN001
        options = {"crm_sink": "crm", "erp_sink": "erp"}
        flows = order_flows(["order", "order_state", "delivery_state"], options)
        sinks = {  # never run: the flows only need their names and systems
            name: {"kind": "directory", "system": name, "options": {"path": str(tmp)}}
            for name in ("crm", "erp")
        }
        self.pipeline = parts_of(
            tmp,
            sources=[exchange_source(app, sets=SETS)],
            extra={
                "mappings_dir": str(mappings),
                "erp": {"requests_per_second": 1000, "max_concurrency": 4},
                "flows": flows,
                "sinks": sinks,
            },
            env=erp_env(url),
        )
        self.store = store
        with store.begin() as conn:
            self.source_lease = leases.acquire(conn, "source:erp_changes", "test", ttl=60)
            self.plan_lease = leases.acquire(conn, "inbox", "test", ttl=60)

    def cycle(self) -> None:
        """Read 1C's package, then plan every event."""
        run = run_source(self.store, self.pipeline.sources["erp_changes"], self.source_lease)
        assert run.ok, run.error
        while plan_pending(self.store, self.pipeline, self.plan_lease, 50).events:
            pass

    def crm_event(self, event: Event) -> None:
        with self.store.begin() as conn:
            inbox.add(conn, [event], stream="test")
        while plan_pending(self.store, self.pipeline, self.plan_lease, 50).events:
            pass

    def facts(self, ref: str) -> dict | None:
        with self.store.read() as conn:
            found = bindings.get(conn, "erp", "order", ref)
        return found.facts if found else None

    def commands(self, target: str, ref: str) -> list[dict]:
        with self.store.read() as conn:
            rows = conn.execute(
                select(outbox.c.payload)
                .where(outbox.c.target == target, outbox.c.object_id == ref)
                .order_by(outbox.c.id)
            ).scalars()
            return [json.loads(p) for p in rows]

    def crm_statuses(self, ref: str) -> list[str]:
        return [c["status"] for c in self.commands("crm", ref) if "status" in c]


def test_an_order_reaches_delivered_in_the_crm_from_1cs_delivery_status(tmp_path, store):
    with erp_sandbox(seed=False) as (app, url):
        app.trade.seed(customers=2, items=3, orders=1, seed=3)
        ref = app.state.rows(ORDERS)[0]["Ref_Key"]
        bench = Bench(tmp_path, store, app, url, ROOT / "mappings")
        bench.cycle()  # the order comes to the CRM as new
        assert bench.crm_statuses(ref) == ["new"]

        app.trade.manager_edit(ref, {"Статус": "КОбеспечению"})  # agreed and posted in 1C
        bench.cycle()
        app.trade.delivery_status(ref, "КСборке")
        bench.cycle()
        app.trade.delivery_status(ref, "Собран")
        bench.cycle()
        app.trade.delivery_status(ref, "Доставлен")
        bench.cycle()
        statuses = ["new", "client-confirmed", "send-to-assembling", "assembling-complete"]
        assert bench.crm_statuses(ref) == [*statuses, "delivered"]
        facts = bench.facts(ref)
        assert facts["erp"]["delivery"] == "Доставлен" and facts["base"]["stage"] == "delivered"

        # the warehouse's record is written again with an older status: nothing moves back
        app.trade.delivery_status(ref, "Собирается")
        bench.cycle()
    assert bench.crm_statuses(ref) == [*statuses, "delivered"]
    assert bench.facts(ref)["base"]["stage"] == "delivered"
    assert bench.commands("erp", ref) == []  # 1C's own progress is never written back to it


def test_1cs_payment_state_is_kept_in_the_orders_facts_for_the_robot(tmp_path, store):
    with erp_sandbox(seed=False) as (app, url):
        app.trade.seed(customers=2, items=3, orders=2, seed=3)
        paid, unpaid = (row["Ref_Key"] for row in app.state.rows(ORDERS))
        bench = Bench(tmp_path, store, app, url, ROOT / "mappings")
        bench.cycle()
        assert erp_paid_percent(bench.facts(paid)) == Decimal("0")
        app.trade.pay(paid, 40.0)
        bench.cycle()
        assert erp_paid_percent(bench.facts(paid)) == Decimal("40")
        app.trade.pay(paid, 100.0)
        app.trade.manager_edit(paid, {"Комментарий": "оплачен"})  # the order changes after
        bench.cycle()
        facts = bench.facts(paid)
    assert erp_paid_percent(facts) == Decimal("100")
    assert facts["erp"]["paid_amount"] == app.state.get(ORDERS, (paid,))["СуммаДокумента"]
    assert erp_paid_percent(bench.facts(unpaid)) == Decimal("0")
    assert erp_paid_percent(bench.facts("no-such-order")) is None


def test_a_crm_order_paid_online_is_flagged_in_1c_once(tmp_path, store):
    mappings = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", mappings)
    orders = mappings / "orders.yaml"
    text = orders.read_text(encoding="utf-8")
    orders.write_text(
        text + "\npayments_to_erp:\n  field: ОплаченоОнлайн\n  value: flag\n", encoding="utf-8"
    )
    with erp_sandbox(seed=False) as (app, url):
        app.trade.seed(customers=2, items=3, orders=1, seed=3)
        order = app.state.rows(ORDERS)[0]
        ref, total = order["Ref_Key"], order["СуммаДокумента"]
        (tmp_path / "parts").mkdir()
        bench = Bench(tmp_path / "parts", store, app, url, mappings)
        bench.cycle()
        body = {"id": 501, "externalId": ref, "status": "new", "totalSumm": total}
        bench.crm_event(Event("crm", "order", "501", "10", {**body, "payments": {}}))
        assert bench.commands("erp", ref) == []  # nothing paid: 1C's default stands
        payment = {"id": 9, "type": "bank-card", "status": "paid", "amount": total}
        bench.crm_event(Event("crm", "order", "501", "11", {**body, "payments": {"9": payment}}))
        bench.crm_event(Event("crm", "order", "501", "12", {**body, "payments": [payment]}))
    (write,) = bench.commands("erp", ref)
    assert write["fields"] == {"ОплаченоОнлайн": True}
    assert bench.commands("crm", ref) == [bench.commands("crm", ref)[0]]  # only the creation
