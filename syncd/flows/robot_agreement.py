"""The order robot in the pipeline: each new CRM order decided once, its decision written.

The rule itself is ``order_robot.decide`` (robot.yaml's conditions over the
order, its payments and 1C's free stock).  This flow feeds it: it reads the
CRM order as the CRM holds it — an order syncd created comes once as an
``order_created`` event (the history source's ``own_created_as``), an order
someone else touched as an ``order`` event — with the stock of its offers
(``ctx.stock``) and 1C's payment state when robot.yaml counts it, and

- decides an order in the robot's status (``new``) that it has not decided
  before, and remembers the decision with every condition's value and
  source (facts ``crm/robot/<externalId>``: ``syncd robot explain`` prints
  them);
- moves the order to the agreed or the "needs agreement" status with the
  reasons where managers see them (``outcomes.reasons_to``), through the CRM
  sink's ``move_status``: only while the order is still in ``new``, so a
  person's choice is never overridden; the agreed status then reaches 1C by
  the order flow's usual path;
- never decides an order a person moved out of ``new`` before it looked
  (remembered as skipped), nor an order without an externalId (not one syncd
  brought from 1C).

    flows:
      - {name: order_robot, kind: order_robot, source_system: crm,
         entities: [order_created, order], target: crm, options: {crm_sink: crm}}
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from syncd.connectors.retailcrm.actions import MoveStatus
from syncd.engine.contracts import Flow, FlowContext
from syncd.engine.pipeline import register
from syncd.flows.crm_moves import move_command
from syncd.flows.mapped import MappedFlow
from syncd.flows.order_robot import RobotDecision, StockRows, decide, scope_note
from syncd.flows.order_state import erp_paid_percent
from syncd.flows.robot_order import RobotOrder
from syncd.mappings.robot import RobotMapping
from syncd.model import Event, Outcome, Plan

CRM_TIME = "%Y-%m-%d %H:%M:%S"
FACTS = "robot"  # facts crm/robot/<externalId>: the decision


class OrderRobotOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    crm_sink: str = "crm"


def decision_ref(external_id: str) -> tuple[str, str, str]:
    return ("crm", FACTS, external_id)


@register
class OrderRobotFlow(MappedFlow, Flow):
    kind = "order_robot"
    Options = OrderRobotOptions

    def looks_up(self, event: Event) -> list[tuple[str, str, str]]:
        ref = str(event.payload.get("externalId") or "")
        return [decision_ref(ref), ("erp", "order", ref)] if ref else []

    def plan(self, event: Event, ctx: FlowContext) -> Plan:
        rules = self.mappings.robot
        body = event.payload
        ref = str(body.get("externalId") or "")
        if rules is None or not rules.enabled:
            return Plan(Outcome.UNCHANGED, note="the robot is off")
        if not ref or body.get("deleted"):
            return Plan(Outcome.UNCHANGED, note="not an order syncd brought from 1C")
        if ctx.facts(*decision_ref(ref)):
            return Plan(Outcome.UNCHANGED, note="decided before")
        order = RobotOrder.from_crm(body, erp_paid_percent=self._erp_paid(rules, ctx, ref))
        note = scope_note(rules, order)
        if note:
            if order.status != rules.orders.status and order.status is not None:
                # a person (or 1C) moved it first: the robot never decides it later
                skipped = {"skipped": note, "seen_at": event.observed_at, "id": body.get("id")}
                return Plan(Outcome.UNCHANGED, note=note, remember={decision_ref(ref): skipped})
            return Plan(Outcome.UNCHANGED, note=note)
        offers = {line.offer for line in order.lines if line.offer}
        decision = decide(rules, order, StockRows(ctx.stock(offers)))
        status = (
            rules.outcomes.agreed if decision.outcome == "agree" else rules.outcomes.needs_agreement
        )
        move = MoveStatus(
            status=status,
            expect=[rules.orders.status],
            fields=_reason_fields(rules, decision, body),
            site=body.get("site"),
            why=f"robot: {decision.outcome}",
            step="robot",
            robot={
                "outcome": decision.outcome,
                "failed": [c.condition for c in decision.checks if not c.ok],
                "created_at": self._epoch(body.get("createdAt")),
            },
        )
        command = move_command(self.options.crm_sink, self.name, ref, move, event)
        facts = {
            **decision.as_json(),
            "status": status,
            "id": body.get("id"),
            "number": body.get("number"),
            "decided_at": event.observed_at,
        }
        return Plan(Outcome.UPDATED, [command], remember={decision_ref(ref): facts})

    def _erp_paid(self, rules: RobotMapping, ctx: FlowContext, ref: str) -> Any:  # noqa: ANN401
        """1C's ПроцентОплаты of the order, when robot.yaml counts it."""
        if not rules.payments.erp_paid_percent:
            return None
        return erp_paid_percent(ctx.facts("erp", "order", ref))

    def _epoch(self, crm_time: Any) -> float | None:  # noqa: ANN401
        try:
            moment = datetime.strptime(str(crm_time), CRM_TIME)
        except ValueError:
            return None
        return moment.replace(tzinfo=self.zones.crm).timestamp()


def reasons_text(decision: RobotDecision) -> str:
    """What managers read of a decision."""
    if decision.outcome == "agree":
        return f"Робот: согласован, условия выполнены ({len(decision.checks)})"
    return "Робот: требует согласования: " + "; ".join(decision.reasons)


def _reason_fields(rules: RobotMapping, decision: RobotDecision, body: dict) -> dict[str, Any]:
    """The order fields that carry the decision's reasons (robot.yaml reasons_to)."""
    where, text = rules.outcomes.reasons_to, reasons_text(decision)
    if where == "status_comment":
        return {"statusComment": text}
    if where == "manager_comment":  # added under what the managers wrote
        before = str(body.get("managerComment") or "").rstrip()
        return {"managerComment": f"{before}\n{text}" if before else text}
    if where == "custom_field":
        return {"customFields": {rules.outcomes.custom_field_code: text}}
    return {}
