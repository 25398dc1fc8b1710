"""A write that got no answer may still land: re-read the object before writing again.

When ``orders/edit``, ``customers/edit`` or an upload times out, the CRM may
apply it a moment later — after syncd gave up, and maybe after a manager
changed the order again.  Sending the same write again then would put syncd's
older intent over the manager's newer change.  So every retry of a write
(a command's second or later attempt) first re-reads the object and judges:

- **applied** — the CRM carries every value syncd meant to write (the write
  landed late, or someone made the same change): the command is done, nothing
  is sent.  When the late write landed *after* someone else's change, the CRM
  applied it over that change — nothing syncd can prevent once the request is
  in the CRM's hands — and the sink says so in a warning naming the change;
- **changed** — the values differ and the object's history shows a change by
  someone else (a user, a rule, another key) since syncd planned the write:
  nothing is sent, and the object as it is now goes back to the flows
  (``Result.changed_meanwhile``), which decide again with it;
- **send** — the values differ and nobody else touched the object: the write
  did not land (or landed in part); sending it again is safe.

History dates are whole seconds in the account's zone: a change in the same
second as the planning counts as newer (not overwritten; the flows decide).
The event handed back carries a version of its own (``<history id>-reread-
<command id>``), so it is never mistaken for one the history source already
delivered, and the flows always see it.

    judge = LateWrites("crm", "crm", zone)
    reread = judge.judge(client, "order", cmd, current=client.get_order(cmd.key), intended=payload)
    if reread.verdict is Verdict.CHANGED:
        return Result.changed_meanwhile(cmd, reread.reason, judge.event_for("order", cmd, reread))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from syncd.connectors.retailcrm.client import CrmClient, as_list
from syncd.connectors.retailcrm.history_source import CRM_TIME, is_own_change
from syncd.model import Command, Event

MAP_OR_LIST = ("payments", "items", "phones")  # PHP sends these as a map or a list


class Verdict(StrEnum):
    APPLIED = "applied"
    SEND = "send"
    CHANGED = "changed"


@dataclass(frozen=True)
class Reread:
    verdict: Verdict
    reason: str
    current: dict | None = None
    # "changed": the object's records since planning; "applied": the changes by others
    # that syncd's late write landed after (and so overwrote)
    history: list[dict] = field(default_factory=list)


def holds(current: Any, intended: Any) -> bool:
    """``current`` (the CRM's object) already carries every value of ``intended``.

    Keys the CRM adds (ids, totals, the nested customer's fields) do not
    count; lists are compared item by item, in order; numbers by value.  When
    unsure it says no: the worst that costs is a write sent again or a
    decision handed back to the flows, never a write counted that did not land.
    """
    if isinstance(intended, dict):
        if not isinstance(current, dict):
            return not intended and current in ([], None)
        return all(
            holds(_field(current, key), value) for key, value in intended.items() if key != "site"
        )
    if isinstance(intended, list):
        items = as_list(current) if isinstance(current, dict | list) else None
        if items is None or len(items) != len(intended):
            return False
        return all(holds(c, i) for c, i in zip(items, intended, strict=True))
    if isinstance(intended, bool) or isinstance(current, bool):
        return isinstance(intended, bool) and isinstance(current, bool) and intended == current
    if isinstance(intended, int | float) and isinstance(current, int | float | str):
        try:
            return math.isclose(float(current), float(intended), abs_tol=1e-9)
        except ValueError:
            return False
    if intended is None:
        return current in (None, "", [], {})
    return str(current) == str(intended) if current is not None else False


def _field(obj: dict, key: str) -> Any:
    value = obj.get(key)
    if key == "customFields" and isinstance(value, list) and not value:
        return {}  # an empty map comes as []
    if key in MAP_OR_LIST and isinstance(value, dict):
        return as_list(value)
    return value


def changed_by_others(records: list[dict], since: float | None, zone: ZoneInfo) -> list[dict]:
    """Records made by anyone but syncd's key from the second of ``since`` (epoch s) on."""
    found = []
    for record in records:
        if is_own_change(record):
            continue
        if since is not None and _epoch(record.get("createdAt"), zone) + 1 <= since:
            continue  # a whole second before syncd planned: syncd knew it, or could have
        found.append(record)
    return found


def _epoch(crm_time: str | None, zone: ZoneInfo) -> float:
    if not crm_time:
        return math.inf  # undated: count it as newer
    return datetime.strptime(crm_time, CRM_TIME).replace(tzinfo=zone).timestamp()


class LateWrites:
    """Judges a retried write by re-reading; builds the event of a "changed" verdict."""

    def __init__(self, system: str, stream: str, zone: ZoneInfo) -> None:
        self.system, self.stream, self.zone = system, stream, zone

    def judge(
        self,
        client: CrmClient,
        entity: str,
        cmd: Command,
        current: dict | None,
        intended: dict,
    ) -> Reread:
        """What to do with ``cmd``'s write of ``intended``, given the object as it is now."""
        if current is None:
            return Reread(Verdict.SEND, f"{entity} {cmd.key} is not in the CRM")
        since = cmd.planned_at or cmd.source_changed_at
        history = client.object_history(entity, int(current["id"]), self._start(since))
        others = changed_by_others(history, since, self.zone)
        if holds(current, intended):
            # landed late — maybe after someone else's change, which the CRM then overwrote
            own = [int(r["id"]) for r in history if is_own_change(r)]
            over = [r for r in others if own and int(r["id"]) < max(own)]
            return Reread(Verdict.APPLIED, "the CRM has syncd's values already", current, over)
        if not others:
            return Reread(Verdict.SEND, "nobody else changed it: sending again", current, history)
        newest = others[-1]
        who = newest.get("source") or "someone"
        reason = (
            f"{entity} externalId={cmd.key} (id {current['id']}) was changed in the CRM by "
            f"{who} at {newest.get('createdAt')} ({newest.get('field')}) after syncd planned "
            "this write, which got no answer earlier: not overwritten; its current state goes "
            "back through the flows"
        )
        return Reread(Verdict.CHANGED, reason, current, history)

    def event_for(self, entity: str, cmd: Command, reread: Reread) -> Event:
        """The object as it is now, as a change of the CRM for the flows to decide on."""
        current = reread.current or {}
        newest = max((int(r["id"]) for r in reread.history), default=0)
        others = changed_by_others(reread.history, None, self.zone)
        at = _epoch(others[-1].get("createdAt"), self.zone) if others else None
        return Event(
            system=self.system,
            entity=entity,
            external_id=str(current["id"]),
            version=f"{newest}-reread-{cmd.id}",
            payload=current,
            changed_at=at if at is not None and math.isfinite(at) else None,
            stream=self.stream,
        )

    def _start(self, since: float | None) -> str | None:
        if since is None:
            return None
        start = datetime.fromtimestamp(math.floor(since), self.zone) - timedelta(seconds=1)
        return start.strftime(CRM_TIME)
