"""Writing to 1C safely: compare, PATCH, post, re-read and verify — resumably.

1C sends no ETag and a live УТ 11 ignored ``If-Match``, so syncd compares
``DataVersion`` itself: it reads the object, and if the version is neither
the one the command was planned against nor one syncd's own earlier steps
produced (``Steps``, noted with the command), and a field syncd would write
holds another value, the object changed in 1C meanwhile — ``ObjectChanged``
carries its current state, and nothing is written.

Otherwise it PATCHes the fields that do not hold their values yet (a
tabular section is sent whole, its rows renumbered from LineNumber 1),
notes the version its PATCH made, posts a document when asked
(``…/Post?PostingModeOperational=false``), reads the object again and checks
every field it wrote — 1C answers 200 while ignoring unknown fields,
truncating strings and keeping old values — plus ``Posted`` and, for a
customer order put into work, ``Согласован``.  A mismatch is ``NotApplied``.

An attempt that stops half way (a crash after the PATCH, a 503 on ``Post``)
is taken up by the next: the target state says what is left — a field
already written is not written again, an order still not posted and agreed
is posted — so an agreement can never be left in 1C unposted.

Never used: the data-load header (it skips the configuration's logic, and
the warehouse would not see the order) and HTTP DELETE (physical deletion):
``mark_deleted`` PATCHes ``DeletionMark`` (unposting first).

    writer = ErpWriter(client, zone)
    after = writer.update("Document_ЗаказКлиента", ref, {"Статус": "КОбеспечению"},
                          expected_version="AAAAAAAAAAU=", post=True)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from syncd.connectors.onec.changes import entity_path
from syncd.connectors.onec.errors import ErpError
from syncd.connectors.onec.odata import ODataClient
from syncd.engine import failpoints
from syncd.errors import PermanentError

UNPOSTED_BY_1C = "НеСогласован"  # a posted order in this status is not agreed


class ObjectChanged(ErpError):
    """The object's DataVersion is not the one the write was planned against."""

    def __init__(self, set_name: str, ref: str, expected: str, current: dict) -> None:
        self.set_name, self.ref, self.current = set_name, ref, current
        found = current.get("DataVersion")
        super().__init__(
            409, None, f"{set_name}({ref}) changed in 1C: version {found}, planned on {expected}"
        )


class NotApplied(ErpError, PermanentError):
    """1C answered success, but re-reading shows the write did not take."""


class Steps:
    """What earlier attempts of one command did in 1C: the versions its own writes made.

    A multi-step write (PATCH, then Post, then verify) can stop anywhere: a
    crash, a 503 on ``Post``, a timeout.  The next attempt must not mistake
    the ``DataVersion`` its own PATCH produced for someone else's change, so
    each version syncd's writes produce is noted durably (``note`` stores it
    with the command) before the next outside call.
    """

    def __init__(self, noted: dict | None = None, note: Callable[[dict], None] | None = None):
        self.versions: list[str] = list((noted or {}).get("own_versions") or [])
        self.last_step: str | None = (noted or {}).get("last_step")
        self._note = note

    def own(self, version: str | None) -> bool:
        return version is not None and version in self.versions

    def wrote(self, version: str | None, step: str) -> None:
        if version and version not in self.versions:
            self.versions.append(version)
        self.last_step = step
        if self._note is not None:
            self._note({"own_versions": self.versions, "last_step": step})


class ErpWriter:
    """``if_match``: also send ``If-Match: <DataVersion>`` with each PATCH.  The
    platform documents a 412 for a stale version, but a live УТ 11 ignored the
    header (unverified on other builds), so syncd's own comparison stays; a 412,
    where a base enforces it, closes the gap between that read and the PATCH.
    """

    def __init__(self, client: ODataClient, zone: ZoneInfo, *, if_match: bool = False) -> None:
        self.client, self.zone, self.if_match = client, zone, if_match

    def read(self, set_name: str, ref: str) -> dict:
        """The object as 1C holds it now, typed by ``$metadata``."""
        return self.client.get_entity(set_name, entity_path(set_name, {"Ref_Key": _guid(ref)}))

    def create(self, set_name: str, fields: dict) -> dict:
        body = self._body(set_name, fields)
        response = self.client.request("POST", set_name, {"$format": "json"}, body, retry=False)
        return response.json()

    def update(
        self,
        set_name: str,
        ref: str,
        fields: dict,
        *,
        expected_version: str | None,
        post: bool = False,
        steps: Steps | None = None,
        cancel_lines: tuple[str, str] | None = None,
    ) -> dict:
        """Bring the object to ``fields`` (and posted), resuming where an attempt stopped.

        ``cancel_lines``: (tabular section, flag), every row of that section as
        1C holds it now, sent whole with the flag set (a tabular section is
        replaced whole, so the rows are the ones just read, not a copy kept
        since the order was first seen).

        The target state decides what is left to do: fields that already
        hold their values are not PATCHed again, an order already posted and
        agreed is not posted again.  The object counts as changed by someone
        else (``ObjectChanged``) only on evidence: its version is neither the
        one planned against nor one syncd's own steps produced, **and** a
        field syncd would write holds another value — so the version of
        syncd's own PATCH, seen again after a crash or a failed ``Post``,
        never closes the command.
        """
        steps = steps or Steps()
        meta = self.client.metadata().entity(set_name)
        path = entity_path(set_name, {"Ref_Key": _guid(ref)})
        current = self.client.get_entity(set_name, path)
        if cancel_lines:
            section, flag = cancel_lines
            rows = current.get(section) or []
            fields = {**fields, section: [{**row, flag: True} for row in rows]}
        body = self._body(set_name, fields)
        wanted = meta.normalize(body)
        missing = _differences(wanted, current)
        version = current.get("DataVersion")
        if expected_version and version != expected_version and not steps.own(version) and missing:
            raise ObjectChanged(set_name, ref, expected_version, current)
        if missing:
            patched = self._patch(set_name, ref, path, body, version)
            failpoints.hit("erp.after_patch")
            current = patched or self.client.get_entity(set_name, path)
            steps.wrote(current.get("DataVersion"), "patched")
        status = wanted.get("Статус", current.get("Статус"))
        # a PATCH is a plain write: what it changed counts only once posted again
        if post and (missing or steps.last_step == "patched" or _unposted(current, status)):
            self.client.request("POST", f"{path}/Post", {"PostingModeOperational": "false"})
            failpoints.hit("erp.after_post")
        after = self.client.get_entity(set_name, path)
        if post:
            steps.wrote(after.get("DataVersion"), "posted")
        problems = _differences(wanted, after)
        if post:
            problems += _unposted(after, status)
        if problems:
            raise NotApplied(200, None, f"{set_name}({ref}): " + "; ".join(problems))
        return after

    def _patch(
        self, set_name: str, ref: str, path: str, body: dict, version: str | None
    ) -> dict | None:
        """PATCH; 1C answers 200 with the whole object, typed here (None if unreadable)."""
        headers = {"If-Match": version} if self.if_match and version else None
        try:
            response = self.client.request(
                "PATCH", path, {"$format": "json"}, body, headers=headers
            )
        except ErpError as exc:
            if exc.status != 412:
                raise
            current = self.client.get_entity(set_name, path)
            raise ObjectChanged(set_name, ref, str(version), current) from None
        try:
            return self.client.metadata().entity(set_name).normalize(response.json())
        except ValueError:
            return None  # not an object (a 204 from some build): re-read instead

    def mark_deleted(self, set_name: str, ref: str) -> dict:
        """DeletionMark, never DELETE; a posted document is unposted first."""
        path = entity_path(set_name, {"Ref_Key": _guid(ref)})
        if self.client.get_entity(set_name, path).get("Posted") is True:
            self.client.request("POST", f"{path}/Unpost")
        self.client.request("PATCH", path, {"$format": "json"}, {"DeletionMark": True})
        after = self.client.get_entity(set_name, path)
        if after.get("DeletionMark") is not True:
            raise NotApplied(200, None, f"{set_name}({ref}): DeletionMark did not take")
        return after

    def _body(self, set_name: str, fields: dict) -> dict:
        """Only declared fields; each tabular section whole, LineNumber from 1."""
        meta = self.client.metadata().entity(set_name)
        body: dict[str, Any] = {}
        for name, value in fields.items():
            if name in meta.tabular_sections:
                if not isinstance(value, list):
                    raise ValueError(
                        f"{set_name}.{name}: a tabular section is sent whole, as a list"
                    )
                rows = [dict(row) for row in value]
                for number, row in enumerate(rows, start=1):
                    row["LineNumber"] = number
                body[name] = rows
            else:
                meta.type_of(name)  # KeyError naming an unknown field, before anything is sent
                body[name] = value
        return body


def _unposted(stored: dict, status: str | None) -> list[str]:
    """What is missing for a document to count as posted (and, for an order put into work,
    agreed: 1C sets ``Согласован`` only when it posts a status other than НеСогласован)."""
    problems = []
    if stored.get("Posted") is not True:
        problems.append("Posted: expected true, 1C has false")
    agreed = stored.get("Согласован")
    if status and status != UNPOSTED_BY_1C and agreed is False:
        problems.append(f"Согласован: expected true after posting with Статус {status}")
    return problems


def _differences(sent: dict, stored: dict) -> list[str]:
    problems = []
    for name, value in sent.items():
        have = stored.get(name)
        if isinstance(value, list):
            mismatch = len(value) != len(have or []) or any(
                _row_differs(row, got) for row, got in zip(value, have or [], strict=False)
            )
        else:
            mismatch = not _same(value, have)
        if mismatch:
            problems.append(f"{name}: sent {_short(value)}, 1C has {_short(have)}")
    return problems


def _row_differs(sent: dict, stored: dict) -> bool:
    return any(not _same(v, stored.get(k)) for k, v in sent.items())


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower() if _is_guid(a) else a == b
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return abs(float(a) - float(b)) < 1e-9
    return a == b


def _is_guid(text: str) -> bool:
    try:
        uuid.UUID(text)
        return len(text) == 36
    except ValueError:
        return False


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _guid(ref: str) -> str:
    try:
        return str(uuid.UUID(str(ref)))
    except ValueError:
        raise ValueError(f"not a 1C reference: {ref!r}") from None
