"""The order's rules, pure: from what each side shows, what to write on each side.

syncd keeps, per order, the facts last seen in 1C (``erp``), in the CRM
(``crm``) and the state both were last brought to (``base``).  An event
updates one side's facts; ``reconcile`` then compares the three:

- **stage** (statuses.yaml): a side *moved* when its stage is ahead of the
  base (or terminal).  A stage behind the base is old news — a late or
  replayed event — and moves nothing.  One side moved: the other is brought
  to it.  Both moved to different stages: the one further ahead wins, unless
  one of them is terminal (a cancellation against progress): a conflict.
- **fields** (orders.yaml): a side changed a field when it differs from the
  base.  One side changed it: copied to the other if the direction allows.
  Both changed it differently: the field's owner wins; owner ``none`` → conflict.
- a side still behind the base stage (a write that was superseded because
  1C changed meanwhile) is written again, against its newest version — unless
  the order has ended on that side (a terminal or the last stage).

The result says which CRM fields and which 1C fields to write; commands are
built from it by the flow.  Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from syncd.flows.order_state import Base, OrderState
from syncd.mappings.model import OrdersMapping, StatusesMapping


@dataclass
class Decision:
    crm: dict[str, Any] = field(default_factory=dict)  # CRM fields to write (status included)
    erp: dict[str, Any] = field(default_factory=dict)  # 1C fields to write
    erp_as_crm: dict[str, Any] = field(default_factory=dict)  # the same, by CRM name
    erp_post: bool = False
    cancel_lines: bool = False
    conflicts: list[str] = field(default_factory=list)
    base: Base = field(default_factory=Base)  # what both sides are brought to


def rank(statuses: StatusesMapping, stage: str | None) -> int:
    if stage is None:
        return -1
    if stage in statuses.terminal:
        return len(statuses.stages) + statuses.terminal.index(stage)
    return statuses.stages.index(stage) if stage in statuses.stages else -1


def _ended(statuses: StatusesMapping, stage: str) -> bool:
    return stage in statuses.terminal or stage == statuses.stages[-1]


def _moved(statuses: StatusesMapping, stage: str | None, base: str | None) -> bool:
    if stage is None or stage == base:
        return False
    if base in statuses.terminal:
        return False  # an ended order stays ended
    return stage in statuses.terminal or rank(statuses, stage) > rank(statuses, base)


def reconcile(
    state: OrderState, orders: OrdersMapping, statuses: StatusesMapping, to_erp: Callable
) -> Decision:
    """``to_erp(field_map, crm_value)`` gives the value to write in 1C."""
    erp, crm, base = state.erp, state.crm, state.base or Base()
    decision = Decision(base=Base(stage=base.stage, fields=dict(base.fields), extra=base.extra))
    take = state.take  # an operator resolved a conflict: that side's state wins
    e_stage, c_stage = (erp.stage if erp else None), (crm.stage if crm else None)
    _stage(decision, e_stage, c_stage, statuses, take)
    e_fields, c_fields = (erp and erp.fields) or {}, (crm and crm.fields) or {}
    _fields(decision, e_fields, c_fields, orders, to_erp, take)
    return decision


def _stage(
    decision: Decision, e: str | None, c: str | None, statuses: StatusesMapping, take: str | None
) -> None:
    b = decision.base.stage
    e_moved, c_moved = _moved(statuses, e, b), _moved(statuses, c, b)
    winner = None
    if take in ("erp", "crm") and e != c:
        winner = e if take == "erp" else c
        decision.base.stage = winner
        if take == "erp" and winner in statuses.crm_write:
            decision.crm["status"] = statuses.crm_write[winner]
        elif take == "crm" and winner in statuses.erp_write:
            write = statuses.erp_write[winner]
            decision.erp.update(write.fields)
            decision.erp_post, decision.cancel_lines = True, write.cancel_lines
        return
    if e_moved and c_moved and e != c:
        if e in statuses.terminal or c in statuses.terminal:
            decision.conflicts.append(f"stage: 1C moved to {e!r}, the CRM to {c!r}")
            return
        winner = e if rank(statuses, e) > rank(statuses, c) else c
    elif e_moved:
        winner = e
    elif c_moved:
        winner = c
    target = winner or b
    if target is None:
        return
    decision.base.stage = target
    # an order that ended on a side (a terminal or the last stage) is never written there
    crm_open = c is not None and c != target and not _ended(statuses, c)
    crm_behind = crm_open and rank(statuses, c) < rank(statuses, target)
    if crm_open and target in statuses.crm_write and (winner or crm_behind):
        decision.crm["status"] = statuses.crm_write[target]
    erp_behind = (
        e is not None and not _ended(statuses, e) and rank(statuses, e) < rank(statuses, target)
    )
    if erp_behind and target in statuses.erp_write:
        write = statuses.erp_write[target]
        decision.erp.update(write.fields)
        decision.erp_post = True
        decision.cancel_lines = write.cancel_lines


def _fields(
    decision: Decision,
    erp: dict,
    crm: dict,
    orders: OrdersMapping,
    to_erp: Callable,
    take: str | None = None,
) -> None:
    base = decision.base.fields
    for fm in orders.fields:
        name = fm.crm
        if name not in erp and name not in crm:
            continue
        b = base.get(name)
        ev, cv = erp.get(name, b), crm.get(name, b)
        e_changed = ev != b and fm.direction in ("erp_to_crm", "both")
        c_changed = cv != b and fm.direction in ("crm_to_erp", "both")
        if e_changed and c_changed and ev != cv:
            owner = take or fm.owner
            if owner == "none":
                decision.conflicts.append(f"{fm.erp} / {name}: 1C has {ev!r}, the CRM {cv!r}")
                continue
            winner = ev if owner == "erp" else cv
        elif e_changed:
            winner = ev
        elif c_changed:
            winner = cv
        else:
            continue
        base[name] = winner
        if cv != winner:
            decision.crm[name] = winner
        if ev != winner and fm.direction in ("crm_to_erp", "both"):
            decision.erp[fm.erp] = to_erp(fm, winner)
            decision.erp_as_crm[name] = winner
