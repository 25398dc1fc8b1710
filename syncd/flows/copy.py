"""The copy flow: write each event's data, unchanged, to the target sink.

The simplest flow, used by the demo and the engine's tests; the order and
customer flows follow the same shape with mappings and rules.  It skips an
event whose data equals what syncd itself last wrote to that object in the
source system (an echo of syncd's own write).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from syncd.engine.contracts import Flow, FlowContext
from syncd.engine.pipeline import register
from syncd.model import Command, Event, Outcome, Plan, write_fingerprint


class CopyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fields: list[str] | None = None  # copy only these fields; all when absent


@register
class CopyFlow(Flow):
    kind = "copy"
    Options = CopyOptions

    def plan(self, event: Event, ctx: FlowContext) -> Plan:
        own = ctx.binding(event.system, event.entity, event.external_id)
        if own is not None and own.fingerprint == write_fingerprint("upsert", event.payload):
            return Plan(Outcome.SKIPPED_ECHO, note="syncd wrote this data itself")
        data = event.payload
        if self.options.fields is not None:
            data = {k: v for k, v in data.items() if k in self.options.fields}
        command = Command.for_event(
            target=self.target,
            entity=event.entity,
            key=event.external_id,
            payload=data,
            cause=event,
            flow=self.name,
        )
        return Plan(Outcome.UPDATED, [command])
