"""The 1C sink: applies syncd's commands to 1C, verified, never blindly.

Actions (``Command.action``, typed in ``actions``), the object addressed by
its ``Ref_Key`` (``Command.key``) and the payload naming the set and the fields:

- ``update`` — ``{"set", "fields", "expected_version", "post"}``: compare
  ``DataVersion``, PATCH, post if asked, re-read and verify (see ``writes``);
  with ``"cancel_lines": {"section", "flag"}`` every row of that tabular
  section, as 1C holds it when the write starts, is sent back with the flag
  set (an order cancelled in the CRM: all its goods lines cancelled in 1C);
- ``set_status`` — the same with ``post`` on by default: the customer
  order's ``Статус`` (and the other mapped fields), then Post, so that the
  warehouse reserves and picks.  With ``status_via: soap`` the status goes
  through the web service's operation ``set_order_status`` instead
  (SyncdExchange's ``SetOrderStatus(Ref, Status)``, or an integrator's own
  with ``soap_status_params``), read before and after through OData or, where
  no OData is configured, through the service's ``GetObject``;
- ``create`` — ``{"set", "fields", "post"}``; the new ``Ref_Key`` is the
  remote id syncd binds;
- ``mark_deleted`` — ``DeletionMark`` (never HTTP DELETE).

An object that changed in 1C since the command was planned is not written:
the result is "changed meanwhile" and the object's current state goes back
into the inbox, so the flows decide again with it.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from syncd.connectors.onec.actions import ACTIONS, Create, SetStatus, Update
from syncd.connectors.onec.changes import EntryReader
from syncd.connectors.onec.connection import erp_client_for, erp_soap_for, erp_zone
from syncd.connectors.onec.errors import ErpError
from syncd.connectors.onec.soap_source import SoapObjects
from syncd.connectors.onec.writes import ErpWriter, ObjectChanged, Steps
from syncd.engine import failpoints
from syncd.engine.actions import BadCommand, read
from syncd.engine.contracts import Result, Sink
from syncd.engine.pipeline import register
from syncd.errors import ClaimLost, PermanentError
from syncd.model import Command


class ErpSinkOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status_via: Literal["odata", "soap"] = "odata"
    soap_status_params: dict[str, str] = Field(
        default_factory=lambda: {
            "ref": "Ref",
            "status": "Status",
            "cancel_section": "CancelSection",
            "cancel_flag": "CancelFlag",
        },
        description="syncd's name -> the SOAP operation's parameter name (SyncdExchange's "
        "SetOrderStatus by default)",
    )


@register
class ErpSink(Sink):
    kind = "erp"
    Options = ErpSinkOptions
    batch_size = 10
    actions = ACTIONS

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        erp = self.context.settings.erp
        by_soap = self.options.status_via == "soap"
        # SOAP alone (no OData published): statuses only, read through GetObject
        self.client = erp_client_for(self.context) if erp.odata_url or not by_soap else None
        self.writer = (
            ErpWriter(self.client, erp_zone(erp), if_match=erp.send_if_match)
            if self.client is not None
            else None
        )
        self.soap = erp_soap_for(self.context) if by_soap else None
        self.objects = SoapObjects(self.soap) if self.soap and self.client is None else None

    def apply(self, commands: list[Command]) -> list[Result]:
        """Each command is one object's write; they run side by side up to the base's cap
        (``erp.max_concurrency``), so one slow or failing order holds back no other."""
        workers = min(len(commands), self.context.settings.erp.max_concurrency)
        if workers <= 1:
            return [self._one(cmd) for cmd in commands]
        with ThreadPoolExecutor(workers, thread_name_prefix=f"sink-{self.name}") as pool:
            return list(pool.map(self._one, commands))

    def _one(self, cmd: Command) -> Result:
        try:
            action = read(cmd, ACTIONS, self.name)
        except BadCommand as exc:
            return Result.failed(cmd, f"{cmd.object_key}: {exc}", permanent=True)
        set_name = action.set
        try:
            if isinstance(action, SetStatus) and self.soap is not None:
                return self._status_by_soap(cmd, action)
            if self.writer is None:
                return Result.failed(
                    cmd,
                    f"{cmd.object_key}: {cmd.action} needs erp.odata_url: through the web "
                    "service syncd sets order statuses only",
                    permanent=True,
                )
            if isinstance(action, Update):  # set_status too
                lines = action.cancel_lines
                after = self.writer.update(
                    set_name,
                    cmd.key,
                    action.fields,
                    expected_version=action.expected_version,
                    post=action.post,
                    steps=Steps(cmd.progress, lambda noted: self.note_progress(cmd, noted)),
                    cancel_lines=(lines.section, lines.flag) if lines else None,
                )
                return Result.applied(cmd, version=after.get("DataVersion"))
            if isinstance(action, Create):
                row = self.writer.create(set_name, action.fields)
                if action.post:
                    self.writer.update(
                        set_name, row["Ref_Key"], {}, expected_version=None, post=True
                    )
                return Result.applied(cmd, str(row["Ref_Key"]))
            self.writer.mark_deleted(set_name, cmd.key)  # the one action left: MarkDeleted
            return Result.applied(cmd)
        except ObjectChanged as changed:
            meta = self.client.metadata() if self.client else self.objects.metadata()  # type: ignore[union-attr]
            reader = EntryReader(self.system, self.name, {set_name: cmd.entity}, meta)
            current = reader.event(
                set_name, {"Ref_Key": changed.ref}, changed.current, f"sink:{time.time():.3f}"
            )
            return Result.changed_meanwhile(cmd, str(changed), current)
        except ClaimLost as exc:  # another attempt owns it now and goes on from its progress
            return Result.failed(cmd, f"{cmd.object_key}: {exc}")
        except PermanentError as exc:
            return Result.failed(cmd, f"{cmd.object_key}: {exc}", permanent=True)
        except (KeyError, ValueError) as exc:
            return Result.failed(cmd, f"{cmd.object_key}: bad command: {exc}", permanent=True)
        except ErpError as exc:
            return Result.failed(cmd, f"{cmd.object_key}: {exc}")

    def _status_by_soap(self, cmd: Command, action: SetStatus) -> Result:
        status = action.fields.get("Статус")
        if not status:
            return Result.failed(cmd, "set_status without fields.Статус", permanent=True)
        set_name, expected = action.set, action.expected_version
        current = self._read(set_name, cmd.key)
        if _holds(current, status, action.cancel_lines) and current.get("Согласован") is not False:
            return Result.applied(cmd, version=current.get("DataVersion"))  # done before
        steps = Steps(cmd.progress, lambda noted: self.note_progress(cmd, noted))
        version = current.get("DataVersion")
        if expected and version != expected and not steps.own(version):
            raise ObjectChanged(set_name, cmd.key, expected, current)
        names = self.options.soap_status_params
        params = {names["ref"]: cmd.key, names["status"]: status}
        lines = action.cancel_lines
        if lines is not None:
            if "cancel_section" not in names or "cancel_flag" not in names:
                return Result.failed(
                    cmd,
                    f"{cmd.object_key}: the order's lines are to be cancelled, and the web "
                    "service takes no cancel_section/cancel_flag (soap_status_params)",
                    permanent=True,
                )
            params |= {names["cancel_section"]: lines.section, names["cancel_flag"]: lines.flag}
        self.soap.call("set_order_status", **params)  # type: ignore[union-attr]
        failpoints.hit("erp.after_post")
        after = self._read(set_name, cmd.key)
        steps.wrote(after.get("DataVersion"), "posted")
        if not _holds(after, status, lines):
            return Result.failed(
                cmd,
                f"{cmd.object_key}: the web service answered, but Статус is {after.get('Статус')}"
                + (f" and {lines.section} not all {lines.flag}" if lines is not None else ""),
                permanent=True,
            )
        return Result.applied(cmd, version=after.get("DataVersion"))

    def _read(self, set_name: str, ref: str) -> dict:
        """The object now: through OData where it is configured, else the web service."""
        if self.writer is not None:
            return self.writer.read(set_name, ref)
        return self.objects.read(set_name, ref)  # type: ignore[union-attr]


def _holds(order: dict, status: str, lines: Any) -> bool:
    """The order has ``status`` and, when asked, every row of the section flagged."""
    if order.get("Статус") != status:
        return False
    return lines is None or all(row.get(lines.flag) for row in order.get(lines.section) or [])
