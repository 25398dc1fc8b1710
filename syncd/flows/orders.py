"""The order flow: site orders from 1C into the CRM, statuses both ways.

One flow kind, ``order_sync``, configured once per source system:

- a 1C order (``Document_ЗаказКлиента`` event), its state (a
  ``СостоянияЗаказовКлиентов`` record: ``Состояние`` and the payment state)
  or its assembly and delivery status (a ``СтатусыСборкиИДоставки`` record)
  updates what syncd knows of the order in 1C; an order the CRM has never
  seen is created there as "new";
- a CRM order (``retailcrm_history`` event) with an externalId syncd gave it
  updates what syncd knows of the order in the CRM; orders born in the CRM
  are not this flow's business;
- then ``order_rules.reconcile`` decides what to write on each side, and the
  order's state (``order_state.OrderState``: each side's last state and the
  base) is remembered (``Plan.remember``) for the next event;
- an order whose stage moved (or, completed, whose total or date changed)
  counts again for its customer's figures (``customer_figures``); its facts
  record what it counts for, so it never counts twice;
- stored, a side's fields equal to the base's are left out (``order_facts``).

Echoes are dropped twice: the CRM history source drops changes made with
syncd's own key, and a 1C event whose ``DataVersion`` is the one syncd's own
write produced is recognised here; what remains equal to what syncd last
wrote is dropped by planning (the bindings' fingerprints).

    flows:
      - {name: orders_from_erp, kind: order_sync, source_system: erp,
         entities: [order, order_state, delivery_state], target: crm,
         options: {crm_sink: crm, erp_sink: erp}}
      - {name: orders_from_crm, kind: order_sync, source_system: crm,
         entities: [order], target: erp, options: {crm_sink: crm, erp_sink: erp}}
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from syncd.connectors.onec.actions import CancelLines, SetStatus, Update
from syncd.connectors.retailcrm.actions import Edit, LinkOrCreate, Upsert
from syncd.engine.actions import Action
from syncd.engine.contracts import Flow, FlowContext
from syncd.engine.pipeline import register
from syncd.flows import customer_figures as cf
from syncd.flows import figures, order_facts
from syncd.flows.crm_customers import crm_customer
from syncd.flows.crm_moves import history_position
from syncd.flows.mapped import MappedFlow
from syncd.flows.order_mapper import OrderMapper, newer_version
from syncd.flows.order_payments import PAID, unpaid_value
from syncd.flows.order_rules import Decision, reconcile
from syncd.flows.order_state import Base, Counted, CrmSide, OrderState
from syncd.identity.keys import Record
from syncd.mappings.transforms import set_path, to_erp
from syncd.model import Command, Conflict, Event, Outcome, Plan


class OrderSyncOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    crm_sink: str = "crm"
    erp_sink: str = "erp"
    crm_timezone: str | None = Field(
        None, description="deprecated: the CRM account's zone is crm.timezone"
    )


@register
class OrderSync(MappedFlow, Flow):
    kind = "order_sync"
    Options = OrderSyncOptions

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.mapper = OrderMapper(self.mappings, self.zones)

    def looks_up(self, event: Event) -> list[tuple[str, str, str]]:
        """The order's facts and its CRM binding (``plan`` reads both)."""
        if event.system == "crm":
            ref = str(event.payload.get("externalId") or "")
        else:
            ref = self.mapper.erp_ref(event)[0] or ""
        return [("erp", "order", ref), ("crm", "order", ref)] if ref else []

    def partners(self, event: Event, ctx: FlowContext) -> list[Record]:
        """The order's 1C partner, as the event brings it or the facts hold it."""
        if event.system == "crm":
            ref, data = str(event.payload.get("externalId") or ""), None
        else:
            ref, data = self.mapper.erp_ref(event)
        partner = self.mapper.erp_partner(data) if data else None
        if partner is None and ref:
            partner = self._state(ctx, ref).erp_side().customer
        return [Record("erp", str(partner).lower())] if partner else []

    @staticmethod
    def _state(ctx: FlowContext, ref: str) -> OrderState:
        """What syncd remembers of the order (stored, a side's fields equal to the
        base's are left out: ``order_facts``)."""
        return OrderState.from_stored(order_facts.unpack(ctx.facts("erp", "order", ref) or {}))

    def plan(self, event: Event, ctx: FlowContext) -> Plan:
        if event.system == "crm":
            ref = str(event.payload.get("externalId") or "")
            if not ref or event.payload.get("deleted"):
                return Plan(Outcome.UNCHANGED, note="not an order syncd brought from 1C")
        else:
            ref = self.mapper.erp_ref(event)[0]
            if ref is None:
                return Plan(Outcome.UNCHANGED, note="not an order")
        state = self._state(ctx, ref)  # a copy of its own: the flow changes it
        # a change on the other side in the same cycle is decided together with this one
        for other in self._pending_elsewhere(ref, state, event, ctx):
            self._take(state, other)
        if not self._take(state, event) and state.take is None:
            return Plan(Outcome.UNCHANGED, note="older than what syncd has seen of that side")
        own = ctx.binding("erp", "order", ref) if event.system == "erp" else None
        echo = own is not None and own.version_seen == event.version and state.take is None
        stage_before = state.base_stage
        plan = self._decide(ref, state, event, ctx, echo=echo)
        if not echo and state.created and self._figures_move(state, stage_before):
            self._customer_figures(plan, ref, state, event, ctx)
        plan.remember[("erp", "order", ref)] = order_facts.pack(state.stored())
        return plan

    def _entry(self, state: OrderState) -> dict[str, Any]:
        """What the order counts as in its customer's figures now."""
        erp = state.erp_side()
        return figures.online_entry(state.base_stage, erp.total or 0, str(erp.date or ""))

    def _figures_move(self, state: OrderState, stage_before: str | None) -> bool:
        """Does the order count differently for its customer now?  Its stage moved, or
        a completed order's total or date changed since it last counted."""
        stage = state.base_stage
        if stage != stage_before:
            return True
        counted = state.counted
        if counted is None or counted.stage != stage:
            return False
        if stage not in cf.rules_of(self.mappings).completed:
            return False
        now = self._entry(state)
        return (counted.total, counted.at) != (now["total"], now["at"])

    def _customer_figures(
        self, plan: Plan, ref: str, state: OrderState, event: Event, ctx: FlowContext
    ) -> None:
        """The order's customer's figures change with it: count it again, write them.

        The order's facts record what it counts for (``customer_figures.RECORD``);
        an order folded into the customer's ``settled`` totals is taken out of them
        by that record before it counts again, so it never counts twice.
        """
        identity = self._identity(ctx, state.erp_side().customer)
        if identity is None:
            return
        key = cf.customer_ref(identity)
        figs = ctx.facts(*key) or {}
        if figures.is_legacy(figs):
            plan.remember.update(cf.legacy_records(ctx, identity, figs, own=ref))
        entry = self._entry(state)
        counted = state.counted.stored() if state.counted is not None else None
        was = cf.counted_before(counted, identity)
        figs = figures.count(figs, "online", ref, entry, was, cf.rules_of(self.mappings))
        state.counted = Counted.from_stored(cf.record(entry, identity))
        fields = cf.fields_of(self.mappings, figs)
        external, aliases = crm_customer(ctx, identity)
        link = LinkOrCreate(customer={"customFields": fields}, match={}, aliases=aliases)
        plan.commands.append(  # an upsert: the customer may not be in the CRM yet
            Command.for_event(
                target=self.options.crm_sink,
                entity="customer",
                key=external,
                cause=event,
                flow=self.name,
                action=link,
                seq=2,
            )
        )
        plan.remember[key] = figs

    def _identity(self, ctx: FlowContext, partner: str | None) -> int | None:
        if not partner:
            return None
        (assignment,) = ctx.identify([Record("erp", str(partner).lower())])
        return assignment.identity

    def _customer_external(self, ctx: FlowContext, partner: str | None) -> str | None:
        identity = self._identity(ctx, partner)
        if identity is None:
            return str(partner).lower() if partner else None
        return crm_customer(ctx, identity)[0]

    def _pending_elsewhere(
        self, ref: str, state: OrderState, event: Event, ctx: FlowContext
    ) -> list[Event]:
        crm_id = state.crm.id if state.crm is not None else None
        if crm_id is None:  # created by syncd: the CRM's id came back with the write
            written = ctx.binding("crm", "order", ref)
            crm_id = written.remote_id if written is not None else None
        refs = [
            ("erp", "order", ref),
            ("erp", "order_state", self.mapper.state_key(ref)),
            ("erp", "delivery_state", self.mapper.delivery_key(ref)),
        ]
        if crm_id is not None:
            refs.append(("crm", "order", str(crm_id)))
        found = [ctx.pending(*r) for r in refs if r[0] != event.system]
        return [e for e in found if e is not None and e.id != event.id]

    def _take(self, state: OrderState, event: Event) -> bool:
        """Fold one event into the state; False when it is not newer than what it holds."""
        if event.system == "crm":
            crm = state.crm_side()
            seen = crm.history_id
            if _folded(crm.event, event):
                return False
            # a status syncd moved sorts by its own status record's history id; one
            # whose record was not found (None) is the order right after that write
            position = history_position(event.version)
            if position is not None and seen is not None and position < int(seen):
                return False
            state.crm = self.mapper.crm_side(event.payload)
            state.crm.history_id = max(position or 0, int(seen or 0))
            state.crm.event = event.id
            return True
        _, data = self.mapper.erp_ref(event)
        erp = state.erp_side()
        if event.payload.get("set") == self.mappings.orders.state_set:
            if _folded(erp.state_event, event):
                return False
            self.mapper.take_state(erp, data)
            erp.state_event = event.id
        elif self.mapper.is_delivery(event):
            if _folded(erp.delivery_event, event):
                return False
            self.mapper.take_delivery(erp, data)
            erp.delivery_event = event.id
        elif data is None:
            return False  # deleted in 1C: nothing to bring over
        elif _folded(erp.event, event) or not newer_version(data.get("DataVersion"), erp.version):
            return False
        else:
            erp.take(self.mapper.erp_side(data))
            erp.event = event.id
        erp.stage = self.mapper.erp_stage(erp)
        return True

    # -- deciding ----------------------------------------------------------------
    def _decide(
        self, ref: str, state: OrderState, event: Event, ctx: FlowContext, *, echo: bool
    ) -> Plan:
        """What to write for the order now (the caller remembers ``state`` after)."""
        if echo:
            return Plan(Outcome.SKIPPED_ECHO, note="syncd's own 1C write")
        if not state.created:
            return self._create(ref, state, event, ctx)
        to_erp = self.mappings.orders.payments_to_erp
        if to_erp is not None and state.base is not None:
            # a 1C order holds the unpaid value until syncd writes another
            state.base.fields.setdefault(PAID, unpaid_value(to_erp))
        decision = reconcile(state, self.mapper.orders, self.mappings.statuses, self._to_erp)
        state.base = decision.base
        commands = self._crm_edit(ref, state, decision, event) + self._erp_write(
            ref, state, decision, event
        )
        state.take = None  # an operator's choice counts once
        sides = {
            "erp": state.erp.stored() if state.erp is not None else None,
            "crm": state.crm.stored() if state.crm is not None else None,
            "facts_ref": ["erp", "order", ref],
        }
        conflicts = [
            Conflict(self.name, "order", ref, reason, sides) for reason in decision.conflicts
        ]
        outcome = (
            Outcome.CONFLICT if conflicts else (Outcome.UPDATED if commands else Outcome.UNCHANGED)
        )
        return Plan(outcome, commands, conflicts)

    def _create(self, ref: str, state: OrderState, event: Event, ctx: FlowContext) -> Plan:
        erp = state.erp
        if erp is None or erp.version is None:
            return Plan(Outcome.UNCHANGED, note="waiting for the order itself")
        stage = erp.stage or self.mappings.statuses.new_order_stage
        status = self.mapper.crm_status_for(stage)
        customer = self._customer_external(ctx, erp.customer)
        order = self.mapper.crm_order(erp, status, customer=customer)
        state.created = True
        state.base = Base(stage=stage, fields=dict(erp.fields or {}))
        if self.mappings.orders.payments_to_erp is not None:
            state.base.fields[PAID] = unpaid_value(self.mappings.orders.payments_to_erp)
        state.crm = CrmSide(status=status, stage=stage, fields=dict(erp.fields or {}))
        command = self._command(self.options.crm_sink, ref, Upsert.model_validate(order), event)
        return Plan(Outcome.CREATED, [command])

    def _crm_edit(
        self, ref: str, state: OrderState, decision: Decision, event: Event
    ) -> list[Command]:
        if not decision.crm:
            return []
        crm = state.crm_side()
        edit: dict[str, Any] = {}
        for name, value in decision.crm.items():
            set_path(edit, name, value)
            if name == "status":
                crm.status = value
                crm.stage = self.mappings.statuses.crm.get(value)
            else:
                crm.fields = {**(crm.fields or {}), name: value}
        return [self._command(self.options.crm_sink, ref, Edit.model_validate(edit), event)]

    def _erp_write(
        self, ref: str, state: OrderState, decision: Decision, event: Event
    ) -> list[Command]:
        if not decision.erp and not decision.cancel_lines:
            return []
        erp = state.erp_side()
        # what 1C will show once the write is in: until its echo comes back, the
        # next events must not read the old 1C values as fresh 1C changes
        erp.fields = {**(erp.fields or {}), **decision.erp_as_crm}
        if decision.erp_post:
            erp.stage = decision.base.stage
        items = self.mappings.orders.items
        cancel = (  # the sink flags the lines 1C holds then (unset when not asked)
            {"cancel_lines": CancelLines(section=items.section, flag=items.cancelled)}
            if decision.cancel_lines and items.cancelled
            else {}
        )
        kind = SetStatus if decision.erp_post else Update
        action = kind(
            set=self.mappings.orders.erp_set,
            fields=dict(decision.erp),
            expected_version=erp.version,
            post=decision.erp_post or erp.posted is True,
            **cancel,
        )
        return [self._command(self.options.erp_sink, ref, action, event)]

    def _command(self, target: str, ref: str, action: Action, event: Event) -> Command:
        return Command.for_event(
            target=target,
            entity="order",
            key=ref,
            cause=event,
            flow=self.name,
            action=action,
            seq=0 if target == self.options.crm_sink else 1,
            # both sides are bound by the order's 1C ref (the CRM's externalId); a CRM
            # event's id (the CRM's own) would add a binding row per order that nobody reads
            link_origin=event.system != "crm",
        )

    def _to_erp(self, fm: Any, value: Any) -> Any:
        return to_erp(value, fm.transform, self.zones)


def _folded(folded: int | None, event: Event) -> bool:
    """This event (or a later one, inbox id ``folded``) is already in the side's state."""
    return event.id is not None and folded is not None and event.id <= folded
