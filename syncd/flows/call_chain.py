"""The no-answer call chain: a missed call brings the order back later; the last cancels it.

The retailer's words: when the operator cannot reach the customer they set
"Недозвон"; three hours later the order returns to "Требует согласования"
and the operator gets a reminder; at the fourth "Недозвон" the order is
cancelled.  robot.yaml's ``call_chain`` says which statuses, how long and
how many.  This flow reads the CRM's orders (history events, and the order
as syncd's own moves left it) and the timers it set:

- an order that enters the no-answer status counts a missed call (facts
  ``crm/call_chain/<externalId>``); below ``cancel_at`` it schedules a timer
  ``return_after_seconds`` after the status was set; at ``cancel_at`` it
  moves the order to ``cancel_status`` (the order flow takes the
  cancellation to 1C);
- the timer, when it fires and the order is still where the timer left it,
  moves the order back to the operators' status with a reminder (a task for
  its manager, and/or a custom field the account's triggers act on);
- an order that leaves the no-answer status any other way cancels its timer;
- events are taken in the account's history order (their history ids): the
  order as one of syncd's moves left it never overrides a later change.

Every move goes through the CRM sink's ``move_status``: only while the order
is still in the no-answer status, so a person's newer choice wins.  Timers
are rows in the store (``syncd.store.timers``): they survive restarts, fire
late rather than never, and fire once with any number of instances.

    flows:
      - {name: call_chain, kind: call_chain, source_system: crm,
         entities: [order], target: crm, options: {crm_sink: crm}}
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from syncd.connectors.retailcrm.actions import MoveStatus, Reminder
from syncd.engine.contracts import Flow, FlowContext
from syncd.engine.pipeline import register
from syncd.flows.crm_moves import history_position, move_command
from syncd.flows.mapped import MappedFlow
from syncd.mappings.robot import CallChain, RobotMapping
from syncd.model import Command, Event, Outcome, Plan, Timer
from syncd.store.timers import ENTITY as TIMER_ENTITY
from syncd.store.timers import SYSTEM as TIMER_SYSTEM

FACTS = "call_chain"  # facts crm/call_chain/<externalId>: status seen, missed calls
TIMER_KIND = "call_chain"


class CallChainOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    crm_sink: str = "crm"


def chain_ref(external_id: str) -> tuple[str, str, str]:
    return ("crm", FACTS, external_id)


def subject(external_id: str) -> str:
    return f"crm/order/{external_id}"


@register
class CallChainFlow(MappedFlow, Flow):
    kind = "call_chain"
    Options = CallChainOptions

    def accepts(self, event: Event) -> bool:
        if event.system == TIMER_SYSTEM and event.entity == TIMER_ENTITY:
            return event.payload.get("kind") == TIMER_KIND
        return super().accepts(event)

    def looks_up(self, event: Event) -> list[tuple[str, str, str]]:
        ref = _ref_of(event)
        return [chain_ref(ref)] if ref else []

    def plan(self, event: Event, ctx: FlowContext) -> Plan:
        rules = self.mappings.robot
        if rules is None or not rules.enabled or not rules.call_chain.enabled:
            return Plan(Outcome.UNCHANGED, note="the call chain is off")
        ref = _ref_of(event)
        if not ref or event.payload.get("deleted"):
            return Plan(Outcome.UNCHANGED, note="not an order syncd brought from 1C")
        facts = dict(ctx.facts(*chain_ref(ref)) or {})
        if event.system == TIMER_SYSTEM:
            return self._returned(rules, ref, facts, event)
        return self._status_seen(rules.call_chain, ref, facts, event)

    # -- an order's status, as the CRM shows it -------------------------------------
    def _status_seen(self, chain: CallChain, ref: str, facts: dict, event: Event) -> Plan:
        body = event.payload
        seen, history_id = int(facts.get("history_id") or 0), history_position(event.version)
        if history_id is not None and history_id < seen:
            return Plan(Outcome.UNCHANGED, note="older than the order's status seen")
        status = body.get("status")
        before = facts.get("status")
        facts.update(status=status, number=body.get("number"), site=body.get("site"))
        facts["history_id"] = max(seen, history_id or 0)
        plan = Plan(Outcome.UNCHANGED, remember={chain_ref(ref): facts})
        if status == before:
            return plan
        if status != chain.no_answer_status:
            if before == chain.no_answer_status:
                why = f"the order moved on to {status!r}"
                plan.cancel_timers.append((TIMER_KIND, subject(ref), why))
            return plan
        misses = int(facts.get("misses") or 0) + 1
        facts["misses"] = misses
        if misses >= chain.cancel_at:
            text = f"Отменён: недозвон {misses} раз"
            move = MoveStatus(
                status=chain.cancel_status,
                expect=[chain.no_answer_status],
                fields={"statusComment": text},
                site=body.get("site"),
                why=f"call chain: no answer {misses} of {chain.cancel_at}",
                step=f"no answer {misses}: cancel",
            )
            plan.commands.append(self._command(ref, move, event))
            plan.outcome = Outcome.UPDATED
            return plan
        due = event.source_time + chain.return_after_seconds
        facts["due_at"] = due
        payload = {"order": ref, "miss": misses, "site": body.get("site")}
        plan.timers.append(Timer(f"{FACTS}:{ref}:{misses}", TIMER_KIND, subject(ref), due, payload))
        plan.outcome = Outcome.UPDATED
        return plan

    # -- a timer fired ---------------------------------------------------------
    def _returned(self, rules: RobotMapping, ref: str, facts: dict, event: Event) -> Plan:
        chain = rules.call_chain
        miss = int(event.payload.get("miss") or 0)
        if facts.get("status") != chain.no_answer_status or int(facts.get("misses") or 0) != miss:
            return Plan(Outcome.UNCHANGED, note="the order moved on before its timer fired")
        number = facts.get("number") or ref
        fill = {"number": number, "attempt": miss, "attempts": chain.cancel_at - 1}
        fields: dict[str, Any] = {
            "statusComment": f"Недозвон {miss} из {chain.cancel_at - 1}: позвоните снова"
        }
        if chain.reminder.custom_field:
            fields["customFields"] = {chain.reminder.custom_field: miss}
        reminder = Reminder(text=_fill(chain.reminder.text, fill)) if chain.reminder.task else None
        move = MoveStatus(
            status=rules.return_status,
            expect=[chain.no_answer_status],
            fields=fields,
            reminder=reminder,
            site=event.payload.get("site") or facts.get("site"),
            why=f"call chain: back to the operators after no answer {miss}",
            step=f"no answer {miss}: return",
        )
        # the order is on its way back: the operator's next "Недозвон" is a new miss even
        # when it reaches syncd before the order as the move left it
        back = {**facts, "status": rules.return_status}
        return Plan(
            Outcome.UPDATED, [self._command(ref, move, event)], remember={chain_ref(ref): back}
        )

    def _command(self, ref: str, move: MoveStatus, event: Event) -> Command:
        return move_command(self.options.crm_sink, self.name, ref, move, event)


def _ref_of(event: Event) -> str:
    if event.system == TIMER_SYSTEM:
        return str(event.payload.get("order") or "")
    return str(event.payload.get("externalId") or "")


def _fill(text: str, values: dict[str, Any]) -> str:
    """The admin's text with {number}, {attempt}, {attempts}; a typo'd field stays as written."""
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):
        return text
