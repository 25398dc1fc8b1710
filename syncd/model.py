"""Canonical records that move through syncd.

An ``Event`` is one observed change in an outside system (what a source
produces, what the inbox stores).  A ``Command`` is one write syncd wants to
make in an outside system (what a flow produces, what the outbox stores and a
sink executes).  Both are plain frozen dataclasses: no I/O, no store handles.

    ev = Event(system="erp", entity="order", external_id="8d1d…", version="AAAAAAAAAAI=",
               payload={"Статус": "КОбеспечению"}, changed_at=1764000000.0)
    cmd = Command.upsert(target="crm", entity="order", key="8d1d…", payload={...},
                         cause=ev, flow="orders_erp_to_crm")
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, ClassVar, Protocol


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same data always gives the same text."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def fingerprint(value: Any) -> str:
    """A short stable digest of ``value``; two writes of the same data share it."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()[:32]


def write_fingerprint(action: str, payload: Any) -> str:
    """The fingerprint bindings keep for a write: what was done, with which data."""
    return fingerprint([action, payload])


class Outcome(StrEnum):
    """What a flow did with one event (the ``outcome`` label of records_total)."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED_ECHO = "skipped_echo"
    CONFLICT = "conflict"
    FAILED = "failed"


@dataclass(frozen=True)
class Event:
    """One change seen in an outside system.

    ``version`` tells two states of the same object apart (1C DataVersion, a
    RetailCRM history id, a file hash); the inbox keeps each
    (system, entity, external_id, version) once.  ``changed_at`` is when the
    change happened at the source (epoch seconds), used for lag and latency.
    """

    system: str
    entity: str
    external_id: str
    version: str
    payload: dict[str, Any]
    changed_at: float | None = None
    observed_at: float = field(default_factory=time.time)
    stream: str = ""
    id: int | None = None  # inbox row id once stored

    @property
    def key(self) -> str:
        return f"{self.system}/{self.entity}/{self.external_id}@{self.version}"

    @property
    def source_time(self) -> float:
        return self.changed_at if self.changed_at is not None else self.observed_at


class TypedAction(Protocol):
    """A sink's action with its payload (``syncd.engine.actions.Action``)."""

    name: ClassVar[str]

    def payload(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Command:
    """One write to make in an outside system, addressed by a key syncd controls.

    Commands for the same ``object_key`` run in order and never concurrently.
    ``idempotency_key`` is unique in the outbox, so planning the same event
    twice never queues the same write twice.
    """

    target: str  # sink name
    entity: str
    key: str
    action: str
    payload: dict[str, Any]
    idempotency_key: str
    flow: str = ""
    origin_system: str = ""
    origin_id: str = ""
    source_changed_at: float | None = None
    id: int | None = None
    attempts: int = 0
    # how far an earlier attempt of a multi-step write got (``Sink.note_progress``)
    progress: dict[str, Any] | None = None
    # attempts cut short by the process dying (claims taken back), not by the target
    interruptions: int = 0
    # when the flow planned it (epoch s): what syncd knew of the target was older
    planned_at: float | None = None

    @property
    def object_key(self) -> str:
        return f"{self.target}/{self.entity}/{self.key}"

    @cached_property
    def fingerprint(self) -> str:
        return write_fingerprint(self.action, self.payload)

    @classmethod
    def for_event(
        cls,
        *,
        target: str,
        entity: str,
        key: str,
        cause: Event,
        flow: str,
        action: str | TypedAction = "upsert",
        payload: dict[str, Any] | None = None,
        seq: int = 0,
        link_origin: bool = True,
    ) -> Command:
        """A command caused by ``cause``; its idempotency key derives from the event.

        ``action``: a typed action (``syncd.engine.actions``; its name and payload), or
        an action's name with its ``payload`` (a sink that declares no actions).
        ``link_origin=False``: the cause's id is not bound to the written object
        (a flow that keys the object by another id, which binds both already)."""
        if not isinstance(action, str):
            action, payload = action.name, action.payload()
        return cls(
            target=target,
            entity=entity,
            key=key,
            action=action,
            payload=payload if payload is not None else {},
            idempotency_key=f"{flow}:{cause.key}:{seq}",
            flow=flow,
            origin_system=cause.system,
            # the same object in another system (its ids are linked once written); a
            # write to another kind of object (an order's customer) links nothing
            origin_id=cause.external_id if cause.entity == entity and link_origin else "",
            source_changed_at=cause.source_time,
        )


@dataclass(frozen=True)
class Conflict:
    """Both systems changed the same thing and the owner rules could not decide."""

    flow: str
    entity: str
    key: str
    reason: str
    details: dict[str, Any]


@dataclass(frozen=True)
class Timer:
    """A delayed action (``syncd.store.timers``): at ``due_at`` (epoch seconds) it fires
    once, as an event ``syncd/timer/<key>`` carrying ``payload``, unless cancelled first.

    ``key`` is unique: scheduling the same timer twice keeps the first.  ``subject``
    names what it is about (``crm/order/<ref>``); cancelling a subject cancels its
    pending timers of that ``kind``."""

    key: str
    kind: str
    subject: str
    due_at: float
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """What a flow decided for one event: commands to queue and the outcome."""

    outcome: Outcome
    commands: list[Command] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    note: str = ""
    # facts to keep about objects, by (system, entity, id): stored with the plan
    remember: dict[tuple[str, str, str], dict] = field(default_factory=dict)
    # pending timers to cancel, as (kind, subject, why): stored before ``timers``
    cancel_timers: list[tuple[str, str, str]] = field(default_factory=list)
    timers: list[Timer] = field(default_factory=list)  # to schedule, with the plan
    # free stock to keep, as (CRM offer externalId, CRM store code, available)
    stock: list[tuple[str, str, Any]] = field(default_factory=list)
