"""The order robot and the call chain planned by the real planner on a real SQLite store.

No sandbox and no sink runs: CRM order events go into the inbox, ``plan_pending``
plans them, timers fire by ``syncd.store.timers.fire_due`` at a time the test
gives, and the test reads what was queued, remembered and scheduled.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from syncd.engine.pipeline import Pipeline
from syncd.engine.planning import plan_pending
from syncd.model import Event
from syncd.store import Store, bindings, inbox, leases, stock, timers
from syncd.store.schema import outbox
from tests.support.daemon import ROOT, parts_of

FLOWS = [
    {
        "name": "order_robot",
        "kind": "order_robot",
        "source_system": "crm",
        "entities": ["order_created", "order"],
        "target": "crm",
    },
    {
        "name": "call_chain",
        "kind": "call_chain",
        "source_system": "crm",
        "entities": ["order"],
        "target": "crm",
    },
]


class RobotFlows:
    def __init__(self, tmp: Path, mappings: Path | None = None) -> None:
        self.store = Store.open(f"sqlite:///{tmp}/robot.db")
        self.store.upgrade()
        parts = tmp / "parts"
        parts.mkdir()
        built = parts_of(
            parts,
            sources=[],
            extra={
                "mappings_dir": str(mappings or ROOT / "mappings"),
                "flows": FLOWS,
                "sinks": {
                    "crm": {"kind": "directory", "system": "crm", "options": {"path": str(parts)}}
                },
            },
        )
        self.pipeline = Pipeline(flows=built.flows, sinks=built.sinks)

    def stock(self, rows: list[tuple[str, str, int]]) -> None:
        with self.store.begin() as conn:
            stock.put(conn, [(o, s, Decimal(a)) for o, s, a in rows], now=1.0)

    def add(self, *events: Event) -> None:
        with self.store.begin() as conn:
            inbox.add(conn, list(events), stream="test")
        self.plan()

    def plan(self) -> None:
        with self.store.begin() as conn:
            lease = leases.acquire(conn, "inbox", "test", 60)
        while plan_pending(self.store, self.pipeline, lease, 50).events:
            pass

    def fire(self, at: float) -> list[Event]:
        """Fire the timers due at ``at`` and plan what they brought."""
        with self.store.begin() as conn:
            fired = timers.fire_due(conn, now=at)
        self.plan()
        return fired

    def moves(self, key: str) -> list[dict]:
        """The move_status payloads queued for CRM order ``key``, oldest first."""
        with self.store.read() as conn:
            rows = conn.execute(
                select(outbox.c.payload)
                .where(outbox.c.object_id == key, outbox.c.action == "move_status")
                .order_by(outbox.c.id)
            ).scalars()
            return [json.loads(p) for p in rows]

    def facts(self, entity: str, key: str) -> dict | None:
        with self.store.read() as conn:
            found = bindings.get(conn, "crm", entity, key)
        return found.facts if found else None

    def timers(self, *states: str) -> list:
        with self.store.read() as conn:
            return timers.listing(conn, states or ("pending",))

    def close(self) -> None:
        self.pipeline.close()
        self.store.dispose()


def crm_event(body: dict, history_id: int, *, entity: str = "order", at: float = 1000.0) -> Event:
    """A CRM order as the history source gives it (``order_created``: one syncd made)."""
    return Event("crm", entity, str(body["id"]), str(history_id), body, changed_at=at)
