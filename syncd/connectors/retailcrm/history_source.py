"""The CRM history source: what changed in RetailCRM, read by ``sinceId``.

RetailCRM keeps one global, growing history id.  Each poll reads
``orders/history`` (or ``customers/history``) after the stored ``sinceId``,
100 records a page, and:

- drops the records made with syncd's own API key (``apiKey.current``) —
  for every order, with or without an externalId (the official modules only
  check orders that have one, and loop on the others) — but for the record
  of an order syncd created (``created: true``): that order comes once as an
  ``order_created`` event (with ``own_created_as: order_created``), which
  only the order robot reads: nothing else would tell it that a new order waits in the CRM;
- collects the ids of the objects the remaining records touched and re-reads
  those objects whole (``filter[ids][]``, 100 per call): an event carries the
  full object, never a field delta (a deleted or merged-away object becomes
  ``{"id", "deleted": true, "combinedTo", "externalId"?}``);
- yields one batch per history page; the engine stores the events and the new
  ``sinceId`` in one transaction, so a crash re-reads at most that page.

The first poll starts ``now`` (only changes from then on) or at a configured
date.  History dates carry no zone: they are read in the account's zone
(``crm.timezone``), and an event's ``changed_at`` is its record's
``createdAt`` — the apply latency metric counts from there.  A webhook
``/webhooks/retailcrm`` (a RetailCRM trigger "HTTP request") makes the
stream poll at once; history stays the source of truth.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from syncd.connectors.retailcrm.client import HistoryPage, client_for
from syncd.engine.contracts import Source, SourceBatch, WebhookRoute
from syncd.engine.pipeline import register
from syncd.model import Event
from syncd.zones import crm_zone

CRM_TIME = "%Y-%m-%d %H:%M:%S"
FUTURE_SLACK_SECONDS = 600.0  # beyond clock skew: a history time this far ahead is a zone error
log = logging.getLogger(__name__)


class HistoryOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entity: Literal["order", "customer"] = "order"
    start: str = Field("now", description="'now' or 'YYYY-MM-DD HH:MM:SS' for the first read")
    # deprecated: the account's zone is crm.timezone (syncd.zones); set, it wins here
    account_timezone: str | None = None
    requests_per_second: float = Field(10.0, gt=0)
    pages_per_poll: int = Field(25, ge=1)
    webhook_path: str = "/webhooks/retailcrm"
    # orders syncd itself created come back once, as this entity: set it to
    # "order_created" for the order robot, which decides them; None: syncd's own
    # records are all dropped
    own_created_as: str | None = None


def is_own_change(record: dict) -> bool:
    """Made with the key that reads the history: syncd's own write (an echo)."""
    api_key = record.get("apiKey") or {}
    return record.get("source") == "api" and api_key.get("current") is True


def touched_id(record: dict, entity: str) -> int | None:
    """The CRM id of the object a history record is about."""
    holder = record.get(entity) or {}
    value = holder.get("id")
    return int(value) if value is not None else None


def tombstone(record: dict, entity: str, object_id: int) -> dict:
    """What a deleted (or merged-away) object's event says: it is gone, and where to.

    A deleted record carries the whole object (a customer's, at least), so
    the externalId it had comes along when there was one.
    """
    gone = {
        "id": object_id,
        "deleted": True,
        "combinedTo": (record.get("combinedTo") or {}).get("id"),
    }
    external_id = (record.get(entity) or {}).get("externalId")
    if external_id:
        gone["externalId"] = external_id
    return gone


@register
class CrmHistorySource(Source):
    kind = "retailcrm_history"
    Options = HistoryOptions

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        if self.options.start != "now":
            try:
                datetime.strptime(self.options.start, CRM_TIME)
            except ValueError:
                raise ValueError(
                    f"start: expected 'now' or YYYY-MM-DD HH:MM:SS, got {self.options.start!r}"
                ) from None
        # history createdAt is the account's local time (crm.timezone)
        self.zone = crm_zone(
            self.context.settings,
            self.options.account_timezone,
            f"source {self.name}: options.account_timezone",
        )
        self._warned_future = False
        self.client = client_for(
            self.context, self.options.requests_per_second, f"source {self.name}"
        )

    def close(self) -> None:
        self.client.close()  # a reload or shutdown gives the account's rate back

    def _first_start(self) -> str:
        if self.options.start != "now":
            return self.options.start
        return datetime.now(self.zone).strftime(CRM_TIME)

    def poll(self, cursor: Any) -> Iterator[SourceBatch]:
        state = dict(cursor or {})
        since_id = int(state.get("since_id") or 0)
        start_date = state.get("start_date") if since_id == 0 else None
        if since_id == 0 and not start_date:
            start_date = self._first_start()
        if self.options.entity == "order":
            pages = self.client.order_history(since_id, start_date)
        else:
            pages = self.client.customer_history(since_id, start_date)
        for read, page in enumerate(pages, start=1):
            if not page.records:  # keep the start date until the first record arrives
                yield SourceBatch([], {"since_id": since_id, "start_date": start_date})
                return
            yield SourceBatch(self.events_of(page), {"since_id": page.last_id, "start_date": None})
            if read >= self.options.pages_per_poll:
                return

    def events_of(self, page: HistoryPage) -> list[Event]:
        """Full objects touched by others in this page, as events."""
        entity = self.options.entity
        versions: dict[int, tuple[int, str | None]] = {}
        created: dict[int, tuple[int, str | None]] = {}  # by syncd: the robot's cue
        deleted: dict[int, dict] = {}
        own_created_as = self.options.own_created_as if entity == "order" else None
        for record in page.records:
            object_id = touched_id(record, entity)
            if object_id is None:
                continue
            if is_own_change(record):
                if own_created_as and record.get("created"):
                    created.setdefault(object_id, (int(record["id"]), record.get("createdAt")))
                continue
            versions[object_id] = (int(record["id"]), record.get("createdAt"))
            if record.get("deleted"):
                deleted[object_id] = tombstone(record, entity, object_id)
        if not versions and not created:
            return []
        ids = sorted(set(versions) | set(created))
        if entity == "order":
            objects = self.client.orders_by_ids(ids)
        else:
            objects = list(self.client.customers({"ids": ids}, limit=100))
        found = {int(o["id"]) for o in objects}
        # a deleted (or merged-away) object cannot be re-read: say so in a tombstone
        objects += [tomb for object_id, tomb in deleted.items() if object_id not in found]
        events = []
        for obj in objects:
            object_id = int(obj["id"])
            kinds = [(entity, versions.get(object_id))]
            if object_id in created and own_created_as:
                kinds.append((own_created_as, created[object_id]))
            for kind, seen in kinds:
                if seen is None and kind == entity and object_id in created:
                    continue  # only syncd touched it in this page
                history_id, created_at = seen or (page.last_id, None)
                events.append(
                    Event(
                        system=self.system,
                        entity=kind,
                        external_id=str(object_id),
                        version=str(history_id),
                        payload=obj,
                        changed_at=self._epoch(created_at),
                        stream=self.name,
                    )
                )
        return events

    def _epoch(self, crm_time: str | None) -> float:
        now = time.time()
        if not crm_time:
            return now
        moment = datetime.strptime(crm_time, CRM_TIME).replace(tzinfo=self.zone).timestamp()
        if moment - now > FUTURE_SLACK_SECONDS and not self._warned_future:
            # A change cannot come from the future: the account's zone is east of
            # crm.timezone, and every lag would read 0.  Said once per build of the part.
            self._warned_future = True
            log.warning(
                "stream %s: RetailCRM history time %s is %.1f h ahead of this host's clock "
                "read in crm.timezone %s; set crm.timezone to the account's zone "
                "(syncd check shows it)",
                self.name,
                crm_time,
                (moment - now) / 3600,
                self.zone.key,
            )
        return moment

    def webhooks(self) -> list[WebhookRoute]:
        # RetailCRM's trigger action can only send form parameters, so the
        # shared secret may come as a form field or query parameter "token".
        return [WebhookRoute(self.options.webhook_path, lambda request: [], allow_query_token=True)]
