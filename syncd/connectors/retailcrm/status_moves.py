"""Status moves: an order's status changed by syncd's own rules, never over a person's.

The order robot and the no-answer call chain move CRM orders between
statuses ("new" → "Согласован", "Недозвон" → "Требует согласования").  A
person may have moved the order meanwhile, and their choice wins, so a move
(``actions.MoveStatus``) is made in steps, each recorded before the next
outside call (``Sink.note_progress``), with a failpoint between:

1. read the order (by externalId); if its status is no longer one of
   ``expect``, nothing is written: the order as it is goes back to the flows
   (``Result.changed_meanwhile``); if it already has the status and fields
   (an earlier attempt landed unanswered), the move counts as made;
2. ``orders/{externalId}/edit`` with the status and ``fields`` (the reasons);
3. the reminder task for the order's manager (``tasks/create``), when asked;
   a task has no externalId, so "asked" is noted before the call, and a
   retry after an unanswered call looks for the task (``find_tasks``) before
   making it again.

RetailCRM has no conditional edit: a person's change landing between the
read and the edit (one round trip) is overwritten; the history shows both.
The CRM's history leaves out syncd's own writes, so the order as the move
left it is handed to the flows (``Result.applied(event=...)``, version
``<history id>-set-<command id>``: the history id of the move's own status
record, read back with one ``orders/history`` call, so that the event sorts
among the changes others made around it); the order flow takes the new
status to 1C by its usual path (an agreed order is posted there for the
warehouse).  An overtaken move hands nothing back: the person's change comes
through the history.

    moves = StatusMoves(client, sink.note_progress, "crm", "crm", zone, metrics)
    result = moves.one(command)
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from syncd.connectors.retailcrm.actions import MoveStatus
from syncd.connectors.retailcrm.client import CrmClient
from syncd.connectors.retailcrm.errors import CrmError, CrmNotFound
from syncd.connectors.retailcrm.history_source import CRM_TIME, is_own_change
from syncd.engine import failpoints
from syncd.engine.actions import BadCommand
from syncd.engine.contracts import Result
from syncd.errors import PermanentError
from syncd.model import Command, Event

log = logging.getLogger(__name__)
# the version of the event a move hands to the flows: the history id of its own
# status record (0: not found), so that it sorts among the history's events
SET_VERSION = "{record}-set-{command_id}"


class StatusMoves:
    def __init__(
        self,
        client: CrmClient,
        note: Callable[[Command, dict], None],
        system: str,
        stream: str,
        zone: ZoneInfo,
        metrics: Any = None,  # noqa: ANN401 - syncd.metrics.Metrics
    ) -> None:
        self.client, self.note, self.zone = client, note, zone
        self.system, self.stream, self.metrics = system, stream, metrics

    def one(self, cmd: Command) -> Result:
        from syncd.connectors.retailcrm.writes import guarded

        return guarded(cmd, lambda: self._move(cmd))

    def _move(self, cmd: Command) -> Result:
        try:
            move = MoveStatus.of(cmd)
        except BadCommand as exc:
            return Result.failed(cmd, f"{cmd.object_key}: {exc}", permanent=True)
        progress = dict(cmd.progress or {})
        body: dict | None = None
        if not progress.get("moved"):
            try:
                current = self.client.get_order(cmd.key, site=move.site)
            except CrmNotFound:
                error = f"order externalId={cmd.key} is not in the CRM: its status cannot move"
                return Result.failed(cmd, error, permanent=True)
            status = current.get("status")
            if status == move.status and _carries(current, move.fields):
                body = current  # an earlier attempt landed, unanswered
            elif status not in move.expect:
                self._count_overtaken(move)
                reason = (
                    f"order externalId={cmd.key} is in status {status!r} now, not "
                    f"{' / '.join(move.expect)}: a person moved it; not moved to {move.status!r}"
                )
                # the person's change reaches the flows through the history, in its order
                return Result(cmd.id or 0, False, error=reason, superseded=True)
            else:
                answer = self.client.edit_order(
                    cmd.key, {"status": move.status, **move.fields}, site=move.site
                )
                body = answer.get("order") or {**current, "status": move.status, **move.fields}
            progress = {
                "moved": True,
                "manager_id": body.get("managerId"),
                "number": body.get("number"),
                "at": time.time(),
            }
            self.note(cmd, progress)
            failpoints.hit("crm.after_status_move")
        if move.reminder is not None and "reminded" not in progress:
            self._remind(cmd, move, progress)
        if body is None:  # moved by an earlier attempt: the order as it is now
            body = self.client.get_order(cmd.key, site=move.site)
        self._count_decision(move)
        log.info("order externalId=%s moved to %s (%s)", cmd.key, move.status, move.why or "syncd")
        record = self._own_record(move, body, progress.get("at"))
        return Result.applied(cmd, _text(body.get("id")), event=self._event(cmd, body, record))

    def _own_record(self, move: MoveStatus, body: dict, at: float | None) -> int:
        """The history id of the move's own status record: where the order as moved sits
        among the changes others made (0 when the history does not show it)."""
        if body.get("id") is None:
            return 0
        since = math.floor(at if at is not None else time.time()) - 60
        start = datetime.fromtimestamp(since, self.zone).strftime(CRM_TIME)
        records = self.client.object_history("order", int(body["id"]), start)
        own = [
            int(r["id"])
            for r in records
            if is_own_change(r)
            and r.get("field") == "status"
            and (r.get("newValue") or {}).get("code") == move.status
        ]
        return max(own, default=0)

    def _remind(self, cmd: Command, move: MoveStatus, progress: dict) -> None:
        reminder = move.reminder
        assert reminder is not None
        performer = reminder.performer_id or progress.get("manager_id")
        if performer is None:
            log.warning(
                "order externalId=%s has no manager: no reminder task made (%s)",
                cmd.key,
                move.why or "syncd",
            )
            return
        if progress.get("reminding"):  # an earlier attempt asked; it may have landed
            made = self.client.find_tasks(
                order_number=progress.get("number"), performer_id=int(performer), text=reminder.text
            )
            if made:
                self.note(cmd, {**progress, "reminded": True, "task_id": made[0].get("id")})
                return
        progress = {**progress, "reminding": True}
        self.note(cmd, progress)
        try:
            task_id = self.client.create_task(
                text=reminder.text,
                performer_id=int(performer),
                order={"externalId": cmd.key},
                datetime=None,
                commentary=reminder.commentary,
                site=move.site,
            )
        except CrmError as exc:
            if not isinstance(exc, PermanentError):
                raise  # tried again (the move is done: only the task)
            # refused for good (a manager no longer active...): the move stands, said once
            log.warning(
                "order externalId=%s moved to %s, but its reminder task was refused: %s",
                cmd.key,
                move.status,
                exc,
            )
            self.note(cmd, {**progress, "reminded": False, "reminder_error": str(exc)})
            return
        self.note(cmd, {**progress, "reminded": True, "task_id": task_id})

    def _event(self, cmd: Command, order: dict, record: int) -> Event:
        return Event(
            system=self.system,
            entity="order",
            external_id=str(order.get("id")),
            version=SET_VERSION.format(record=record, command_id=cmd.id),
            payload=order,
            changed_at=time.time(),
            stream=self.stream,
        )

    def _count_decision(self, move: MoveStatus) -> None:
        robot = move.robot
        if self.metrics is None or not robot:
            return
        self.metrics.robot_decisions.labels(robot.get("outcome", "unknown")).inc()
        for condition in robot.get("failed") or []:
            self.metrics.robot_failed_conditions.labels(condition).inc()
        created = robot.get("created_at")
        if isinstance(created, int | float):
            self.metrics.robot_decision_seconds.observe(max(0.0, time.time() - created))

    def _count_overtaken(self, move: MoveStatus) -> None:
        if self.metrics is not None and move.robot:
            self.metrics.robot_decisions.labels("overtaken").inc()


def _carries(order: dict, fields: dict) -> bool:
    """The order shows every field of ``fields`` (custom fields one by one)."""
    for name, value in fields.items():
        if name == "customFields" and isinstance(value, dict):
            have = order.get("customFields") if isinstance(order.get("customFields"), dict) else {}
            if any(have.get(k) != v for k, v in value.items()):
                return False
        elif order.get(name) != value:
            return False
    return True


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
