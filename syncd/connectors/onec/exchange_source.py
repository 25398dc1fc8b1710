"""Changes from 1C through an exchange plan: ``SelectChanges`` / ``NotifyChangesReceived``.

The standard change feed of 1C.  Objects in the plan's content are
registered for syncd's node on every write; each poll asks for message
``N+1`` (``POST SelectChanges?DataExchangePoint='…'&MessageNo=N+1``), gets
an Atom package — documents with their tabular sections, register record
sets, deleted entries — and turns the entries of the configured sets into
events.  Only once those events and the cursor are committed does syncd
confirm the message (``NotifyChangesReceived``), so a crash anywhere re-reads
the package: 1C keeps a change registered until a confirmation covers it,
and the inbox drops what it has already stored.

    sources:
      - name: erp_changes
        kind: erp_exchange
        system: erp
        options:
          plan: ExchangePlan_СинхронизацияSyncd
          node: 5b1c…                      # the Ref_Key of syncd's node
          sets: {Document_ЗаказКлиента: order,
                 InformationRegister_СостоянияЗаказовКлиентов: order_state}
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from functools import partial
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from syncd.connectors.onec.atom import parse_feed
from syncd.connectors.onec.changes import EntryReader
from syncd.connectors.onec.connection import erp_client_for
from syncd.connectors.onec.metadata import Metadata
from syncd.connectors.onec.nudges import Nudges
from syncd.connectors.onec.odata import ODataClient
from syncd.connectors.onec.soap import ErpPoisonAnswer
from syncd.connectors.onec.values import literal
from syncd.engine.contracts import Rejected, Source, SourceBatch, WebhookRoute
from syncd.engine.pipeline import register


class ExchangeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plan: str = Field(..., description="the exchange plan's set, e.g. ExchangePlan_Syncd")
    node: str = Field(..., description="Ref_Key of syncd's node in that plan")
    sets: dict[str, str] = Field(..., min_length=1, description="1C set -> syncd entity")
    packages_per_poll: int = Field(5, ge=1)
    nudge_rereads_per_poll: int = Field(
        0,
        ge=0,
        description="objects a webhook named, re-read by key before the package (0: a nudge "
        "only makes the stream read its package at once; the package carries them all)",
    )
    webhook_path: str = "/webhooks/1c"


class ExchangeNode:
    """syncd's node of an exchange plan, over OData."""

    def __init__(self, client: ODataClient, plan: str, node: str) -> None:
        self.client, self.plan = client, plan
        self.node = uuid.UUID(node)

    @property
    def point(self) -> str:
        return f"{self.client.base}{self.plan}({literal(self.node)})"

    def received_no(self) -> int:
        """The last message number 1C saw confirmed for this node."""
        node = self.client.get_entity(self.plan, f"{self.plan}({literal(self.node)})")
        return node.get("ReceivedNo") or 0

    def select(self, message_no: int) -> bytes:
        # SelectChanges answers Atom only; a failed call costs 1C lock time,
        # so it is not retried in a loop here: the stream's backoff decides.
        response = self.client.request(
            "POST",
            "SelectChanges",
            {"DataExchangePoint": f"'{self.point}'", "MessageNo": message_no},
            accept="application/atom+xml",
            retry=False,
        )
        return response.content

    def changes(self, message_no: int) -> list[tuple[str, dict | None, dict | None]]:
        """Message ``message_no``'s entries as ``(set, key, data or None if gone)``."""
        return [
            (c.set_name, c.key, None if c.deleted else c.properties)
            for c in parse_feed(self.select(message_no))
        ]

    def confirm(self, message_no: int) -> None:
        self.client.request(
            "POST",
            "NotifyChangesReceived",
            {"DataExchangePoint": f"'{self.point}'", "MessageNo": message_no},
        )


@register
class ErpExchangeSource(Source):
    kind = "erp_exchange"
    Options = ExchangeOptions

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        try:
            uuid.UUID(self.options.node)
        except ValueError:
            raise ValueError(
                f"node: expected the node's Ref_Key (a GUID), got {self.options.node!r}"
            ) from None
        self.client = erp_client_for(self.context)
        self.node = ExchangeNode(self.client, self.options.plan, self.options.node)
        self.nudges = Nudges(self.options.sets, self.options.webhook_path, self._known_metadata)
        self._reader: EntryReader | None = None

    @property
    def reader(self) -> EntryReader:
        if self._reader is None:
            meta = self._metadata()
            self._reader = EntryReader(self.system, self.name, self.options.sets, meta)
        return self._reader

    def _metadata(self) -> Metadata:
        """``$metadata``, checked to publish the exchange plan."""
        meta = self.client.metadata()
        meta.entity(self.options.plan)
        return meta

    def _known_metadata(self) -> Metadata | None:
        """``$metadata`` if this source has read it (a webhook call never waits on 1C)."""
        return self._reader.meta if self._reader is not None else None

    def poll(self, cursor: Any) -> Iterator[SourceBatch]:
        state = dict(cursor or {})
        number = state.get("message_no")
        if number is None:
            number = self.node.received_no()
        # the package brings every registered change: nudges beyond a few only wake the stream
        nudged = self.nudges.reread_pending(
            self.client,
            lambda: self.reader,
            f"nudge:{time.time():.3f}",
            limit=getattr(self.options, "nudge_rereads_per_poll", 0),
            drop_rest=True,
        )
        if nudged is not None:
            yield SourceBatch(nudged[0], {"message_no": number}, nudged[1])
        for _ in range(self.options.packages_per_poll):
            message_no = number + 1
            try:
                entries = self.node.changes(message_no)
            except ErpPoisonAnswer as poison:  # retrying cannot cure it: set aside, go on
                yield self._set_aside(message_no, poison)
                number = message_no
                continue
            if not entries:
                yield SourceBatch([], {"message_no": number})
                return
            events, rejected = self.reader.events(
                entries, f"message:{message_no}", f"SelectChanges message {message_no}"
            )
            yield SourceBatch(
                events,
                {"message_no": message_no},
                rejected,
                after_commit=partial(self.node.confirm, message_no),
            )
            number = message_no

    def _set_aside(self, message_no: int, poison: ErpPoisonAnswer) -> SourceBatch:
        """A message that cannot be read: a dead letter saying so, and the message
        confirmed so that the stream goes on (its objects come again at their next
        write, or when registered again in 1C: docs/onec.md)."""
        bad = Rejected(
            f"SelectChanges message {message_no}",
            f"unreadable, confirmed to let the stream go on: {poison}",
            {"message_no": message_no},
        )
        return SourceBatch(
            [],
            {"message_no": message_no},
            [bad],
            after_commit=partial(self.node.confirm, message_no),
        )

    def webhooks(self) -> list[WebhookRoute]:
        return [self.nudges.route()]
