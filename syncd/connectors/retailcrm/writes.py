"""The CRM sink's writes of one round: uploads, edits and externalId fixes, never blind.

``CrmWrites`` holds the round's client (bounded by the round's deadline) and
turns each write into ``Result``s:

- a write that got no answer (``CrmNoAnswer``) fails *transiently*: its
  commands go back to pending with backoff, the rest of the round goes on;
- a retried write (a command's second or later attempt — the earlier one may
  have timed out and landed late) re-reads the object first and lets
  ``late_writes`` judge: done already, changed by someone else meanwhile
  (handed back to the flows, not overwritten), or safe to send again;
- an upload's item the CRM holds already (an earlier attempt went in, or the
  order was there before syncd) is bound by the id found and edited to the
  payload — after the same judgement when the command is a retry.

    writes = CrmWrites(client.within(deadline), late_writes, SinkRound(pool, deadline))
    results = writes.upserts("order", commands)   # uploads, then the ones found there
    result = writes.one(edit_command)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import requests

from syncd.connectors.retailcrm.actions import ACTIONS, Edit
from syncd.connectors.retailcrm.client import UPLOAD_LIMIT, CrmClient, chunks
from syncd.connectors.retailcrm.errors import CrmError, CrmNotFound
from syncd.connectors.retailcrm.late_writes import LateWrites, Verdict
from syncd.connectors.rounds import DeadlinePassed, SinkRound, Unit, writes_sent
from syncd.engine.actions import BadCommand
from syncd.engine.contracts import Result
from syncd.errors import PermanentError
from syncd.model import Command

log = logging.getLogger(__name__)


def is_retry(cmd: Command) -> bool:
    """An earlier attempt ran (and may have landed unseen): re-read before writing."""
    return cmd.attempts > 1


def changes_of(cmd: Command) -> dict:
    """What the command writes to the object (``site`` addresses it, it is not a field)."""
    return {k: v for k, v in cmd.payload.items() if k != "site"}


class CrmWrites:
    def __init__(self, client: CrmClient, late: LateWrites, round_: SinkRound) -> None:
        self.client = client
        self.late = late
        self.round = round_

    # -- uploads -------------------------------------------------------------
    def upserts(
        self, entity: str, commands: list[Command], alongside: list[Unit] | None = None
    ) -> list[Result]:
        """Upload calls of up to 50 (one site each), side by side with ``alongside``;
        then the objects found in the CRM already, each brought to its payload on its own."""
        later: list[Unit] = []
        by_site: dict[str | None, list[Command]] = {}
        for c in commands:
            by_site.setdefault(c.payload.get("site"), []).append(c)
        uploads = [
            Unit(part, lambda part=part, site=site: self._upload(entity, part, site, later), True)
            for site, group in by_site.items()
            for part in chunks(group, UPLOAD_LIMIT)
        ]
        results = self.round.run(uploads + list(alongside or []))
        return results + self.round.run(later)

    def _upload(
        self, entity: str, commands: list[Command], site: str | None, later: list[Unit]
    ) -> list[Result]:
        """One upload call; retried commands are looked up first.  What the CRM holds
        already goes to ``later`` (one unit each), unanswered here."""
        to_upload = list(commands)
        retried = [c for c in commands if is_retry(c)]
        if retried:
            found = self._by_external_ids(entity, [c.key for c in retried], site)
            for cmd in retried:
                if cmd.key in found:
                    to_upload.remove(cmd)
                    later.append(self._existing_unit(entity, cmd, found[cmd.key], site, True))
        if not to_upload:
            return []
        items = [{**changes_of(c), "externalId": c.key} for c in to_upload]
        try:
            if entity == "order":
                outcome = self.client.upload_orders(items, site=site)
            else:
                outcome = self.client.upload_customers(items, site=site)
        except CrmError as exc:
            permanent = isinstance(exc, PermanentError)
            return [Result.failed(c, str(exc), permanent=permanent) for c in to_upload]
        uploaded = {str(u.get("externalId")): u.get("id") for u in outcome.uploaded}
        existing = {str(e.get("externalId")): e for e in outcome.existing}
        failures = {str(f.get("externalId")): f.get("errors") or [] for f in outcome.failed}
        results = []
        for cmd in to_upload:
            if cmd.key in uploaded:
                results.append(Result.applied(cmd, _text(uploaded[cmd.key])))
            elif cmd.key in existing:
                later.append(self._existing_unit(entity, cmd, existing[cmd.key], site, False))
            else:
                reasons = failures.get(cmd.key) or ["the upload gave no outcome for it"]
                error = f"{entity} externalId={cmd.key}: " + "; ".join(reasons)
                results.append(Result.failed(cmd, error, permanent=True))
        return results

    def _existing_unit(
        self, entity: str, cmd: Command, found: dict, site: str | None, whole: bool
    ) -> Unit:
        """``found``: the whole object (looked up), or the upload's ``{id, errors}`` of it."""
        current = found if whole else None
        said = None if whole else found.get("errors")

        def write() -> Result:
            return self._existing(entity, cmd, found, site, said, current=current)

        return Unit([cmd], lambda: [guarded(cmd, write)])

    def _by_external_ids(self, entity: str, keys: list[str], site: str | None) -> dict[str, dict]:
        if entity == "order":
            found = self.client.orders_by_external_ids(keys, site)
        else:
            found = self.client.customers_by_external_ids(keys, site)
        return {str(o.get("externalId")): o for o in found}

    def _existing(
        self,
        entity: str,
        cmd: Command,
        found: dict,
        site: str | None,
        said: list | None,
        *,
        current: dict | None = None,
    ) -> Result:
        """The object is in the CRM already (``found``: its id): bind it by that id and
        bring it to the payload — unless, on a retry, it has the payload already or
        someone changed it meanwhile (``current``: the whole object, when just read)."""
        changes = changes_of(cmd)
        if is_retry(cmd):
            current = current or self._read(entity, str(found["id"]), by="id", site=site)
            verdict = self._judge(entity, cmd, current, changes)
            if verdict is not None:
                return verdict
        log.info(
            "%s externalId=%s is in the CRM already (id %s): editing it (%s)",
            entity,
            cmd.key,
            found.get("id"),
            "; ".join(said or []),
        )
        try:
            if entity == "order":
                self.client.edit_order(found["id"], changes, by="id", site=site)
            else:
                self.client.edit_customer(found["id"], changes, by="id", site=site)
        except CrmError as exc:
            error = f"{entity} externalId={cmd.key} (id {found['id']}): {exc}"
            return Result.failed(cmd, error, permanent=isinstance(exc, PermanentError))
        return Result.applied(cmd, _text(found["id"]))

    # -- one object ------------------------------------------------------------
    def one(self, cmd: Command) -> Result:
        """An edit or an externalId fix of one object."""
        return guarded(cmd, lambda: self._one(cmd))

    def _one(self, cmd: Command) -> Result:
        if cmd.entity not in ("order", "customer") or cmd.action not in ("edit", "fix_external_id"):
            return Result.failed(
                cmd, f"the CRM sink cannot {cmd.action} a {cmd.entity}", permanent=True
            )
        try:
            action = ACTIONS[cmd.action].of(cmd)
        except BadCommand as exc:
            return Result.failed(cmd, f"{cmd.object_key}: {exc}", permanent=True)
        if isinstance(action, Edit):
            return self.edit(cmd.entity, cmd, cmd.payload)
        # harmless to repeat: the same pair again changes nothing
        pair = [{"id": action.id, "externalId": cmd.key}]
        if cmd.entity == "order":
            self.client.fix_order_external_ids(pair)
        else:
            self.client.fix_customer_external_ids(pair)
        return Result.applied(cmd, _text(action.id))

    def edit(self, entity: str, cmd: Command, changes: dict, current: dict | None = None) -> Result:
        """``changes`` to the object addressed by ``cmd.key`` (its externalId); a retry
        re-reads it first (``current``, when the caller has just read it)."""
        if is_retry(cmd):
            current = current or self._read(entity, cmd.key, by="externalId", site=None)
            verdict = self._judge(entity, cmd, current, changes)
            if verdict is not None:
                return verdict
        if entity == "order":
            body = self.client.edit_order(cmd.key, changes)
        else:
            body = self.client.edit_customer(cmd.key, changes)
        return Result.applied(cmd, _text(body.get("id")))

    # -- judging a retry ---------------------------------------------------------
    def _read(self, entity: str, key: str, *, by: str, site: str | None) -> dict | None:
        try:
            if entity == "order":
                return self.client.get_order(key, by=by, site=site)
            return self.client.get_customer(key, by=by, site=site)
        except CrmNotFound:
            return None

    def _judge(
        self, entity: str, cmd: Command, current: dict | None, changes: dict
    ) -> Result | None:
        """The result of a retried write settled by re-reading; None: send it."""
        reread = self.late.judge(self.client, entity, cmd, current, changes)
        if reread.verdict is Verdict.APPLIED:
            log.info(
                "%s externalId=%s: an earlier attempt landed after all; counted applied",
                entity,
                cmd.key,
            )
            for record in reread.history:  # changes the late write landed over
                log.warning(
                    "%s externalId=%s: syncd's write, unanswered at the time, landed in the "
                    "CRM late, after a change by %s at %s (%s): RetailCRM applied syncd's "
                    "write over it; check the %s",
                    entity,
                    cmd.key,
                    record.get("source") or "someone",
                    record.get("createdAt"),
                    record.get("field"),
                    entity,
                )
            return Result.applied(cmd, _text((reread.current or {}).get("id")))
        if reread.verdict is Verdict.CHANGED:
            event = self.late.event_for(entity, cmd, reread)
            return Result.changed_meanwhile(cmd, reread.reason, event)
        return None


def guarded(cmd: Command, write: Callable[[], Result]) -> Result:
    """One object's write; its trouble (a refusal, no answer, the round's deadline)
    becomes its own result, never the batch's."""
    before = writes_sent()
    try:
        return write()
    except DeadlinePassed as exc:
        if writes_sent() == before:  # nothing of it went out: not tried, not an attempt
            return Result.not_tried(cmd, str(exc))
        return Result.failed(cmd, str(exc))  # counted: its retry re-reads what went out
    except CrmError as exc:
        return Result.failed(cmd, str(exc), permanent=isinstance(exc, PermanentError))
    except requests.RequestException as exc:  # a read that got no answer, even retried
        return Result.failed(cmd, f"{cmd.object_key}: {type(exc).__name__} reading the CRM")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
