"""Writing to 1C safely: compare, PATCH, post, re-read and verify.

1C sends no ETag and a live УТ 11 ignored ``If-Match``, so syncd compares
``DataVersion`` itself: it reads the object, and if the version is not the
one the command was planned against, the object changed in 1C meanwhile —
``ObjectChanged`` carries its current state, and nothing is written.

Otherwise it PATCHes only the fields the mapping gave (a tabular section is
sent whole, its rows renumbered from LineNumber 1), posts a document when
asked (``…/Post?PostingModeOperational=false``), reads the object again and
checks every field it wrote — 1C answers 200 while ignoring unknown fields,
truncating strings and keeping old values — plus ``Posted`` and, for a
customer order put into work, ``Согласован``.  A mismatch is ``NotApplied``.

Never used: the data-load header (it skips the configuration's logic, and
the warehouse would not see the order) and HTTP DELETE (physical deletion):
``mark_deleted`` PATCHes ``DeletionMark`` (unposting first).

    writer = ErpWriter(client, zone)
    after = writer.update("Document_ЗаказКлиента", ref, {"Статус": "КОбеспечению"},
                          expected_version="AAAAAAAAAAU=", post=True)
"""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo

from syncd.connectors.onec.changes import entity_path
from syncd.connectors.onec.errors import ErpError
from syncd.connectors.onec.odata import ODataClient
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
    ) -> dict:
        """Write ``fields`` (and post) unless the object changed; verified by re-reading."""
        meta = self.client.metadata().entity(set_name)
        path = entity_path(set_name, {"Ref_Key": _guid(ref)})
        current = self.client.get_entity(set_name, path)
        if expected_version and current.get("DataVersion") != expected_version:
            raise ObjectChanged(set_name, ref, expected_version, current)
        body = self._body(set_name, fields)
        if body:
            self._patch(set_name, ref, path, body, current.get("DataVersion"))
        if post:
            self.client.request("POST", f"{path}/Post", {"PostingModeOperational": "false"})
        after = self.client.get_entity(set_name, path)
        problems = _differences(meta.normalize(body), after)
        if post and after.get("Posted") is not True:
            problems.append("Posted: expected true, 1C has false")
        status = body.get("Статус")
        if post and status and status != UNPOSTED_BY_1C and after.get("Согласован") is False:
            problems.append(f"Согласован: expected true after posting with Статус {status}")
        if problems:
            raise NotApplied(200, None, f"{set_name}({ref}): " + "; ".join(problems))
        return after

    def _patch(self, set_name: str, ref: str, path: str, body: dict, version: str | None) -> None:
        headers = {"If-Match": version} if self.if_match and version else None
        try:
            self.client.request("PATCH", path, {"$format": "json"}, body, headers=headers)
        except ErpError as exc:
            if exc.status != 412:
                raise
            current = self.client.get_entity(set_name, path)
            raise ObjectChanged(set_name, ref, str(version), current) from None

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
