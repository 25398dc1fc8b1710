"""The order and purchase-history flows planned by the real planner on a real store.

No sandbox and no sink runs: events go into the inbox, ``plan_pending`` plans
them, and the test reads what was queued (the outbox) and remembered (the
bindings' facts).  1C and CRM orders are built in the shapes the sources give.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

from sqlalchemy import select

from syncd.engine.pipeline import Pipeline
from syncd.engine.planning import plan_pending
from syncd.identity.keys import Record
from syncd.identity.resolver import Resolver
from syncd.model import Event
from syncd.store import Store, bindings, inbox, leases
from syncd.store.schema import outbox
from tests.support.daemon import ROOT, order_flows, parts_of

ORDERS_SET = "Document_ЗаказКлиента"


def mappings_with(folder: Path, live_entries: int, matching: str = "keys") -> Path:
    """The shipped mappings, with ``figures.live_entries`` and ``matching.method`` set."""
    shutil.copytree(ROOT / "mappings", folder)
    customers = folder / "customers.yaml"
    text = customers.read_text(encoding="utf-8")
    marker = "  live_entries: 20\n"
    assert marker in text
    text = text.replace(marker, f"  live_entries: {live_entries}\n")
    customers.write_text(text + f"\nmatching:\n  method: {matching}\n", encoding="utf-8")
    return folder


class FlowBench:
    """Both order flows and the purchase history over one SQLite store."""

    def __init__(self, tmp: Path, live_entries: int, matching: str = "keys") -> None:
        self.tmp, self.matching = tmp, matching
        self.store = Store.open(f"sqlite:///{tmp}/flows.db")
        self.store.upgrade()
        self.seq = 0
        self.use(live_entries)

    def use(self, live_entries: int) -> None:
        """(Re)build the flows with ``live_entries``, as a reload would."""
        folder = mappings_with(
            self.tmp / f"mappings-{self.seq}-{live_entries}", live_entries, self.matching
        )
        self.seq += 1
        options = {"crm_sink": "crm", "erp_sink": "erp"}
        parts = self.tmp / f"parts-{self.seq}"
        parts.mkdir()
        built = parts_of(
            parts,
            sources=[],
            extra={
                "mappings_dir": str(folder),
                "flows": [
                    *order_flows(["order", "order_state"], options),
                    {
                        "name": "purchases",
                        "kind": "purchase_history",
                        "source_system": "pos",
                        "entities": ["receipt"],
                        "target": "crm",
                    },
                ],
                "sinks": {  # never run: the flows only need their names and systems
                    name: {"kind": "directory", "system": name, "options": {"path": str(parts)}}
                    for name in ("crm", "erp")
                },
            },
        )
        self.pipeline = Pipeline(flows=built.flows, sinks=built.sinks, resolver=built.resolver)

    # -- events ------------------------------------------------------------------
    def partner(self, ref: str, name: str, phone: str) -> int:
        """A 1C partner known to the identity index (as the customer flow makes it)."""
        with self.store.begin() as conn:
            (assigned,) = Resolver().resolve(conn, [Record("erp", ref.lower(), name, [phone])])
        return assigned.identity

    def add(self, *events: Event) -> None:
        with self.store.begin() as conn:
            inbox.add(conn, list(events), stream="test")

    def plan(self) -> None:
        with self.store.begin() as conn:
            lease = leases.acquire(conn, "inbox", "test", 60)
        while plan_pending(self.store, self.pipeline, lease, 50).events:
            pass

    def replay(self) -> None:
        with self.store.begin() as conn:
            inbox.replay(conn)
        self.plan()

    # -- what was planned and remembered -----------------------------------------
    def facts(self, system: str, entity: str, external_id: str) -> dict | None:
        with self.store.read() as conn:
            found = bindings.get(conn, system, entity, external_id)
        return found.facts if found else None

    def customer_fields(self, key: str) -> dict:
        """The custom fields of the newest write queued for CRM customer ``key``."""
        with self.store.read() as conn:
            payload = conn.execute(
                select(outbox.c.payload)
                .where(outbox.c.entity == "customer", outbox.c.object_id == key)
                .order_by(outbox.c.id.desc())
                .limit(1)
            ).scalar_one()
        return json.loads(payload)["customer"]["customFields"]

    def close(self) -> None:
        self.pipeline.close()
        self.store.dispose()


def data_version(n: int) -> str:
    """1C's DataVersion: an 8-byte counter in base64."""
    return base64.b64encode(n.to_bytes(8, "big")).decode()


def erp_order(
    ref: str,
    n: int,
    status: str,
    total: float,
    day: str,
    partner: str,
    *,
    agreed: bool = True,
    comment: str = "",
) -> Event:
    """A 1C customer order as the exchange source gives it (version ``n``)."""
    data = {
        "Ref_Key": ref,
        "DataVersion": data_version(n),
        "Number": f"ЗК-{ref[:4]}",
        "Date": f"{day}T10:00:00",
        "Статус": status,
        "Posted": True,
        "Согласован": agreed,
        "Партнер_Key": partner,
        "СуммаДокумента": total,
        "СпособДоставки": "Самовывоз",
        "АдресДоставки": "",
        "Комментарий": comment,
        "Товары": [
            {
                "LineNumber": 1,
                "Номенклатура_Key": "a1",
                "Количество": 1.0,
                "Цена": total,
                "Сумма": total,
                "Отменено": False,
            },
        ],
    }
    return Event("erp", "order", ref, data["DataVersion"], {"set": ORDERS_SET, "data": data})


def crm_order(ref: str, crm_id: int, history_id: int, status: str, **fields: object) -> Event:
    """The CRM order syncd created for 1C order ``ref``, as the history source gives it."""
    payload = {"id": crm_id, "externalId": ref, "status": status, "number": f"ЗК-{ref[:4]}"}
    payload.update(fields)
    return Event("crm", "order", str(crm_id), str(history_id), payload)


def receipt(
    receipt_id: str,
    total: float,
    day: str,
    phone: str,
    *,
    version: str = "1",
    group: str = "msk",
    buyer: dict | None = None,
) -> Event:
    """A POS receipt of a known buyer, as the drop folder gives it."""
    payload = {
        "receipt_id": receipt_id,
        "group": group,
        "site": None,
        "store": "Тверская",
        "at": f"{day}T12:00:00+03:00",
        "operation": "sale",
        "total": total,
        "items": [{"sku": "a1", "name": "Чайник", "quantity": 1, "price": total}],
        "buyer": buyer or {"phone": phone, "email": "", "card": "", "name": "Анна Петрова"},
    }
    return Event("pos", "receipt", f"{group}:{receipt_id}", version, payload)
