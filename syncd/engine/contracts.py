"""The three shapes a pipeline is built from: Source, Flow and Sink.

A **Source** reads one stream of changes from an outside system and yields
batches of events with the cursor that covers them; the engine stores each
batch and its cursor in one transaction.  A **Flow** is pure business logic:
given one event and a read-only view of the store, it plans commands.  A
**Sink** applies commands to one outside system, idempotently, and reports a
result per command.  Each kind declares its options as a pydantic model, like
a singer-sdk stream declares its config:

    @register
    class FeedFileSource(Source):
        kind = "feed_file"
        class Options(BaseModel):
            path: str
        def poll(self, cursor): ...
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from syncd.engine.actions import Action
from syncd.model import Command, Event, Plan


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass
class Rejected:
    """Input a source could not turn into an event (kept as a dead letter)."""

    subject: str  # where: "orders.csv:17" or an object id
    error: str  # what and why: "field 'amount': expected a number, got 'abc'"
    payload: Any = None


@dataclass
class SourceBatch:
    """Events, records rejected on the way, and the cursor that covers both."""

    events: list[Event]
    cursor: Any
    rejected: list[Rejected] = field(default_factory=list)
    after_commit: Callable[[], None] | None = None  # e.g. confirm an exchange-plan message


@dataclass
class WebhookIntake:
    """What one stream made of a webhook call, before anything is recorded.

    ``events`` go into the inbox; ``taken`` names what the stream will act on
    and ``ignored`` what the call named that it does not read (a 1C set), so
    the answer can say truthfully what no stream took.  ``accept`` records
    the stream's part (a nudge waiting for the next run): it runs only once
    every stream's handler has accepted the call, so a 400 from one leaves
    nothing half-recorded.
    """

    events: list[Event] = field(default_factory=list)
    taken: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    accept: Callable[[], None] | None = None

    @property
    def takes_part(self) -> bool:
        return bool(self.taken or self.events)


@dataclass(frozen=True)
class WebhookRoute:
    """A push endpoint a source adds to the HTTP server.

    ``handler`` gets the authenticated ``syncd.web.WebhookRequest`` and
    returns a ``WebhookIntake``, or (the short forms) the events it carries
    (stored in the inbox at once) or an empty list for a plain nudge; either
    way the source's stream runs at the next iteration.  Several streams may
    share a path: each handler sees the call, and one that returns None (or
    an intake that takes nothing) says "not for this stream".
    A ValueError from the handler becomes a 400 naming what was wrong, and
    then no stream records anything of the call.
    """

    path: str
    handler: Callable[[Any], WebhookIntake | list[Event] | None]
    allow_query_token: bool = False


class Part(ABC):
    kind: ClassVar[str]
    Options: ClassVar[type[BaseModel]] = NoOptions

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; called on shutdown and before a reload swaps parts."""


class SystemPart(Part):
    """A part that talks to one outside system: a source or a sink."""

    def __init__(self, name: str, system: str, options: BaseModel, context: PartContext) -> None:
        self.name = name
        self.system = system
        self.options = options
        self.context = context


class Source(SystemPart):
    @abstractmethod
    def poll(self, cursor: Any) -> Iterator[SourceBatch]:
        """Yield batches of changes after ``cursor`` (None on the first run)."""

    def webhooks(self) -> list[WebhookRoute]:
        return []


class FlowContext(ABC):
    """What a flow may read from the store while it plans (never writes)."""

    @abstractmethod
    def binding(self, system: str, entity: str, external_id: str) -> Any: ...

    @abstractmethod
    def counterpart(self, system: str, entity: str, external_id: str, other: str) -> Any: ...

    @abstractmethod
    def facts(self, system: str, entity: str, external_id: str) -> dict | None:
        """What flows remembered of the object (``Plan.remember``), newest first."""

    @abstractmethod
    def pending(self, system: str, entity: str, external_id: str) -> Event | None:
        """The newest change of an object not planned yet (a change made in the same cycle)."""

    def identify(self, records: list) -> list:  # noqa: ANN401 - identity.Record -> Assignment
        """Tie records to customers (syncd/identity).  The one write a flow may cause: the
        identity index is idempotent (a record resolves to the same customer every time)."""
        raise NotImplementedError

    def customer_ids(self, identity: int) -> list[tuple[str, str]]:
        """(source, id) of every record bound to a customer, oldest first."""
        raise NotImplementedError

    def stock(self, offers: Iterable[str]) -> list[dict]:
        """Free stock rows ``{"offer", "store", "available"}`` of these CRM offers."""
        raise NotImplementedError


class Flow(Part):
    def __init__(
        self,
        name: str,
        source_system: str,
        entities: list[str],
        target: str,
        options: BaseModel,
        context: PartContext,
    ) -> None:
        self.name = name
        self.source_system = source_system
        self.entities = set(entities)
        self.target = target
        self.options = options
        self.context = context

    def accepts(self, event: Event) -> bool:
        return event.system == self.source_system and (
            not self.entities or event.entity in self.entities
        )

    @abstractmethod
    def plan(self, event: Event, ctx: FlowContext) -> Plan:
        """Decide what to write for ``event``. Pure: no I/O outside ``ctx``."""

    def looks_up(self, event: Event) -> list[tuple[str, str, str]]:
        """The bindings (system, entity, id) ``plan`` will read for this event, besides the
        event's own: the planner fetches a batch's at once.  Pure; the default is none."""
        return []

    def people(self, event: Event) -> list:  # noqa: ANN401 - identity.Record
        """The records ``plan`` will pass to ``ctx.identify`` for this event.

        The planner resolves a whole batch's records in one go before planning
        it (a batch is much faster than one record at a time); ``identify``
        then answers from that.  Pure; the default is none.
        """
        return []

    def partners(self, event: Event, ctx: FlowContext) -> list:  # noqa: ANN401 - identity.Record
        """Bare records (an id alone, e.g. an order's partner) ``plan`` may pass to
        ``ctx.identify`` for this event.  The planner looks a batch's up at once
        (never creating anyone: one not known yet is resolved when ``plan`` asks).
        Reads only what ``looks_up`` named; the default is none."""
        return []


@dataclass(frozen=True)
class Result:
    """How one command went. ``remote_id`` is the id the target gave the object.

    ``superseded``: the target object changed since the command was planned,
    so it was not written; ``event`` (the object as it is now) goes into the
    inbox, and the flows decide again from there.  An applied result may carry
    an ``event`` too: the object as the write left it, for the flows.

    ``deferred``: not tried at all (the sink's round ran out of time first);
    the command is due again at once and the round does not use up an attempt.
    """

    command_id: int
    ok: bool
    error: str | None = None
    permanent: bool = False
    remote_id: str | None = None
    superseded: bool = False
    event: Event | None = None
    version: str | None = None  # the object's version after this write, when the target says
    deferred: bool = False

    @classmethod
    def applied(
        cls,
        command: Command,
        remote_id: str | None = None,
        version: str | None = None,
        event: Event | None = None,
    ) -> Result:
        """Written.  ``event``: the object as the write left it, when the flows must
        learn of it (a change syncd made that no source will report: the CRM's
        history leaves out syncd's own writes)."""
        return cls(command.id or 0, True, remote_id=remote_id, version=version, event=event)

    @classmethod
    def failed(cls, command: Command, error: str, *, permanent: bool = False) -> Result:
        return cls(command.id or 0, False, error=error, permanent=permanent)

    @classmethod
    def not_tried(cls, command: Command, reason: str) -> Result:
        return cls(command.id or 0, False, error=reason, deferred=True)

    @classmethod
    def changed_meanwhile(cls, command: Command, reason: str, current: Event) -> Result:
        return cls(command.id or 0, False, error=reason, superseded=True, event=current)


class ProgressBook:
    """Where the engine lets a sink note a running command's progress.

    The engine opens a page for every command it hands to a sink (the
    command's claim: where and under which token to store its progress) and
    closes it when the result is in; several rounds of one sink may run at
    once, so the pages are keyed by command id under a lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pages: dict[int, Callable[[dict], None]] = {}

    def open(self, command_id: int, record: Callable[[dict], None]) -> None:
        with self._lock:
            self._pages[command_id] = record

    def close(self, command_ids: Iterable[int]) -> None:
        with self._lock:
            for command_id in command_ids:
                self._pages.pop(command_id, None)

    def note(self, command: Command, progress: dict) -> None:
        with self._lock:
            record = self._pages.get(command.id or 0)
        if record is not None:
            record(progress)


class Sink(SystemPart):
    batch_size: ClassVar[int] = 50
    # the actions it executes, by name (syncd.engine.actions): planning checks every
    # command for it against them before storing it; empty: any action, unchecked
    actions: ClassVar[dict[str, type[Action]]] = {}

    @abstractmethod
    def apply(self, commands: list[Command]) -> list[Result]:
        """Apply commands (distinct objects, each the next in its object's order)."""

    @property
    def progress_book(self) -> ProgressBook:
        book = self.__dict__.get("_progress_book")
        if book is None:
            book = self.__dict__.setdefault("_progress_book", ProgressBook())
        return book

    def note_progress(self, command: Command, progress: dict) -> None:
        """Remember, durably, how far ``command``'s multi-step write got.

        Call it between outside calls (after a PATCH, before the Post): the
        next attempt of the command — after a failure or a restart — gets it
        back as ``command.progress`` and goes on from there.  Raises
        ``syncd.errors.ClaimLost`` when another attempt owns the command now.
        Outside the engine (a sink called directly) it notes nothing.
        """
        self.progress_book.note(command, progress)


@dataclass(frozen=True)
class PartContext:
    """What a part may need from its surroundings at construction time."""

    settings: Any  # syncd.config.Settings
    metrics: Any  # syncd.metrics.Metrics
    dry_run: bool = False
    # the daemon's store, for a source that compares what it reads with what syncd keeps
    # (the stock source); read only.  None outside the daemon: such a source opens its own
    store: Any = None
