"""The CRM sink: applies syncd's commands to RetailCRM, idempotently, and never stuck.

Actions (``Command.action``, typed in ``actions``), each addressed by the
externalId syncd controls (``Command.key``):

- ``upsert`` — orders/customers go through ``*/upload`` in batches of 50 (the
  API's limit).  Every item ends one of three ways, whichever form the answer
  takes (200 ``success: true`` with ``failedOrders``, or 460): uploaded; in
  the CRM already (refused as a duplicate, or left out of the answer, and
  found by externalId) — bound by the id found and edited to the payload, so
  a repeat is harmless; or failed for good with the reason, naming the
  externalId, for the dead letters;
- ``edit`` — a partial edit in one call (a status together with its payments);
- ``fix_external_id`` — give a CRM-born object (payload ``{"id": …}``) its
  externalId;
- ``link_or_create`` — a customer found by binding, phone or e-mail, or new
  (``linking``);
- ``move_status`` — an order's status moved by syncd's rules, only while a
  person has not moved it first (``status_moves``).

A round (one batch) never holds its worker for long: customers first (linked,
then uploaded), then orders and single-object writes, each phase's objects
side by side on ``concurrency`` threads within the account's one rate
(``syncd.connectors.rounds``); each call has its kind's timeout (``crm.
timeouts``); no call starts after ``round_deadline_seconds`` — what was not
tried by then is handed back untried.  A write that got no answer goes back
to pending with backoff while the rest of the batch completes, and its retry
re-reads the object before writing again (``writes``, ``late_writes``).

The engine records the fingerprint of what was written in the bindings, and
the CRM id the account gave (``remote_id``).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from syncd.connectors.retailcrm.actions import ACTIONS
from syncd.connectors.retailcrm.client import client_for
from syncd.connectors.retailcrm.late_writes import LateWrites
from syncd.connectors.retailcrm.linking import CustomerLinks
from syncd.connectors.retailcrm.status_moves import StatusMoves
from syncd.connectors.retailcrm.writes import CrmWrites
from syncd.connectors.rounds import Deadline, SinkRound, Unit
from syncd.engine.contracts import Result, Sink
from syncd.engine.pipeline import register
from syncd.model import Command
from syncd.zones import crm_zone


class CrmSinkOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requests_per_second: float = Field(10.0, gt=0)
    # no call of a round starts later than this; a round lasts at most this plus
    # one call's timeouts (crm.timeouts), far below engine.claim_ttl_seconds
    round_deadline_seconds: float = Field(30.0, gt=0, le=600)
    # objects of a round written side by side (the account's rate still paces them)
    concurrency: int = Field(8, ge=1, le=32)


@register
class CrmSink(Sink):
    kind = "retailcrm"
    Options = CrmSinkOptions
    batch_size = 50
    actions = ACTIONS

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.zone = crm_zone(self.context.settings, None, f"sink {self.name}")
        self.late = LateWrites(self.system, self.name, self.zone)
        self.client = client_for(
            self.context, self.options.requests_per_second, f"sink {self.name}"
        )
        self.pool = ThreadPoolExecutor(self.options.concurrency, f"sink-{self.name}")
        self.clock = time.monotonic  # the round's deadline runs on it (tests move it)
        self.metrics = self.context.metrics

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()  # a reload or shutdown gives the account's rate back

    def apply(self, commands: list[Command]) -> list[Result]:
        """Customers first (linked, then uploaded), then orders, which may point at them,
        and the single-object writes; within each phase the objects side by side."""
        deadline = Deadline.after(self.options.round_deadline_seconds, self.clock)
        round_ = SinkRound(self.pool, deadline)
        writes = CrmWrites(self.client.within(deadline), self.late, round_)
        results: list[Result] = []
        links = [c for c in commands if c.action == "link_or_create" and c.entity == "customer"]
        if links:
            results += CustomerLinks(writes).apply(links)
        customers = [c for c in commands if c.action == "upsert" and c.entity == "customer"]
        if customers:
            results += writes.upserts("customer", customers)
        orders = [c for c in commands if c.action == "upsert" and c.entity == "order"]
        done = {id(c) for c in links + customers + orders}
        moves = StatusMoves(
            writes.client, self.note_progress, self.system, self.name, self.zone, self.metrics
        )
        singles = [
            Unit([c], lambda c=c: [moves.one(c) if c.action == "move_status" else writes.one(c)])
            for c in commands
            if id(c) not in done
        ]
        return results + writes.upserts("order", orders, alongside=singles)
