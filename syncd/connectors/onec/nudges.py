"""``POST /webhooks/1c``: a nudge from 1C, checked before it is taken, re-read by key after.

An event subscription in 1C posts ``{"type": "Document_ЗаказКлиента", "ref":
"<guid>"}`` (or ``"key": {…}`` for a register record, or a list of them; see
docs/onec.md).  It is a nudge: the named object is re-read by key at the
stream's next run, and polling or the exchange plan stays the source of truth.

A nudge is checked before the call is answered 202, because one that cannot
be read must not get in and then fail every run of the stream: the body's
shape (a bounded JSON of objects with ``type`` and ``ref`` or ``key``), and
for the sets a stream reads, the key — its fields and their types from the
source's ``$metadata`` once it has been read, the documented shape before
(``Ref_Key`` a GUID for documents, catalogs and the like; key fields, never
``Ref_Key``, for registers).  A ValueError names the item and the field.

At the run, a nudge whose object 1C refuses for good (a 4xx: a key that is
no key; no rights) is rejected alone, as a dead letter, and the stream goes
on; one that 1C did not answer (5xx, a timeout) waits for the next run, and
after ``REREAD_TRIES`` runs is a dead letter too — nothing waits for ever.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import requests

from syncd.connectors.onec.changes import EntryReader, describe, key_text
from syncd.connectors.onec.edm import EMPTY_GUID, BadValue, typed
from syncd.connectors.onec.errors import ErpNotFound
from syncd.connectors.onec.metadata import Metadata, StructuredType
from syncd.connectors.onec.values import literal
from syncd.engine.contracts import Rejected, WebhookIntake, WebhookRoute
from syncd.errors import PermanentError, TransientError
from syncd.failures import one_line
from syncd.model import Event
from syncd.webhook_bodies import load_json

log = logging.getLogger(__name__)

MAX_OBJECTS_PER_CALL = 1000  # each is a GET to 1C at the next run: the ERP is read gently
MAX_KEY_FIELDS = 16
MAX_TEXT = 1024
REREAD_TRIES = 5  # runs a nudge waits for a 1C that does not answer, then a dead letter

# 1C objects with a reference (Ref_Key) and the registers, which are keyed by their fields
REFERENCE_KINDS = (
    "Document_",
    "Catalog_",
    "ExchangePlan_",
    "ChartOfCharacteristicTypes_",
    "ChartOfAccounts_",
    "ChartOfCalculationTypes_",
    "BusinessProcess_",
    "Task_",
)
REGISTER_KINDS = (
    "InformationRegister_",
    "AccumulationRegister_",
    "AccountingRegister_",
    "CalculationRegister_",
)
_NAME = re.compile(r"^[^\W\d]\w{0,255}$")  # a 1C set or property name: letters, digits, _
SHAPE = '{"type": "Document_…", "ref": "<guid>"} or {"type": "…Register_…", "key": {…}}'


@dataclass(frozen=True)
class NamedObject:
    """One object a call names: its set, its key as sent, and where it was in the body."""

    set_name: str
    key: dict[str, Any]
    where: str  # "1C webhook" or "1C webhook: item 3"


@dataclass
class Nudge:
    set_name: str
    key: dict[str, Any]
    tries: int = 0


def named_objects(body: bytes) -> list[NamedObject]:
    """The objects a ``/webhooks/1c`` body names; ValueError naming the item and field."""
    data = load_json(body, what="1C webhook: body")
    items = data if isinstance(data, list) else [data]
    if not items:
        raise ValueError(f"1C webhook: the body names no object; expected {SHAPE}")
    if len(items) > MAX_OBJECTS_PER_CALL:
        raise ValueError(
            f"1C webhook: {len(items)} objects in one call, at most {MAX_OBJECTS_PER_CALL}"
        )
    listed = isinstance(data, list)
    return [
        _named(item, f"1C webhook: item {n}" if listed else "1C webhook")
        for n, item in enumerate(items, start=1)
    ]


def _named(item: Any, where: str) -> NamedObject:
    if not isinstance(item, dict):
        raise ValueError(f"{where}: expected an object like {SHAPE}, got {_kind(item)}")
    set_name = item.get("type")
    if not isinstance(set_name, str) or not set_name:
        raise ValueError(
            f"{where}: type: expected a 1C set name like Document_ЗаказКлиента, "
            f"got {_kind(set_name)}"
        )
    if not _NAME.match(set_name):
        raise ValueError(f"{where}: type: not a 1C set name: {_shown(set_name)}")
    has_ref, has_key = "ref" in item, "key" in item
    if has_ref == has_key:
        which = "both ref and key" if has_ref else "neither ref nor key"
        raise ValueError(
            f"{where}: {which}; send ref (a Ref_Key GUID) or key (a register's fields)"
        )
    if has_ref:
        return NamedObject(set_name, {"Ref_Key": _guid(item["ref"], f"{where}: ref")}, where)
    key = item["key"]
    if not isinstance(key, dict) or not key:
        raise ValueError(f"{where}: key: expected an object of key fields, got {_kind(key)}")
    if len(key) > MAX_KEY_FIELDS:
        raise ValueError(f"{where}: key: {len(key)} fields, at most {MAX_KEY_FIELDS}")
    for name, value in key.items():
        if not _NAME.match(name):
            raise ValueError(f"{where}: key: not a field name: {_shown(name)}")
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise ValueError(f"{where}: key.{name}: text over {MAX_TEXT} characters")
        if not _scalar(value):
            raise ValueError(
                f"{where}: key.{name}: expected text, a number or true/false, got {_kind(value)}"
            )
    return NamedObject(set_name, dict(key), where)


def checked_key(named: NamedObject, entity: StructuredType | None) -> dict[str, Any]:
    """The key in its canonical form, checked against ``$metadata`` (``entity``) when it has
    been read, else against the documented shape of the set's kind."""
    key, where, set_name = named.key, named.where, named.set_name
    if entity is not None:
        expected = list(entity.key)
        missing = [n for n in expected if n not in key]
        extra = [n for n in key if n not in expected]
        if missing or extra:
            problem = f"missing key.{missing[0]}" if missing else f"unexpected key.{extra[0]}"
            raise ValueError(f"{where}: {problem}: {set_name} is keyed by {', '.join(expected)}")
        return {
            n: _typed_key_value(key[n], entity.type_of(n), f"{where}: key.{n}") for n in expected
        }
    if set_name.startswith(REFERENCE_KINDS):
        if list(key) != ["Ref_Key"]:
            raise ValueError(
                f"{where}: key: {set_name} is keyed by Ref_Key alone, got {', '.join(key)}"
            )
        return {"Ref_Key": _guid(key["Ref_Key"], f"{where}: key.Ref_Key")}
    if set_name.startswith(REGISTER_KINDS):
        if "Ref_Key" in key:
            raise ValueError(
                f"{where}: key.Ref_Key: a register record has no Ref_Key; "
                "send its key fields (e.g. Recorder and Recorder_Type)"
            )
        for name in key:
            if name.endswith("_Type") and name[:-5] not in key:
                raise ValueError(f"{where}: missing key.{name[:-5]} beside key.{name}")
        if "Recorder" in key and "Recorder_Type" not in key:
            raise ValueError(f"{where}: missing key.Recorder_Type beside key.Recorder")
    return key


def _typed_key_value(value: Any, edm: str, where: str) -> Any:
    if edm == "Edm.Guid":
        return _guid(value, where)
    try:
        return typed(value, edm, where)
    except BadValue as bad:
        raise ValueError(f"{where}: expected {edm}, got {bad.shown}") from None


def key_path(entity: StructuredType, set_name: str, key: dict[str, Any]) -> str:
    """``Set(guid'…')`` or ``Register(Name='…',Period=datetime'…')``: each key value
    written as the literal of its ``$metadata`` type, as 1C wants it in a URL."""
    names = list(entity.key)
    if sorted(key) != sorted(names):
        raise ValueError(f"{set_name} is keyed by {', '.join(names)}, got {', '.join(key)}")
    values = {n: _url_value(typed(key[n], entity.type_of(n), n), entity.type_of(n)) for n in names}
    if names == ["Ref_Key"]:
        return f"{set_name}({literal(values['Ref_Key'])})"
    return f"{set_name}({','.join(f'{n}={literal(values[n])}' for n in names)})"


def _url_value(value: Any, edm: str) -> Any:
    if value is None:
        raise ValueError("a key field is null")
    if edm == "Edm.Guid":
        return uuid.UUID(value)
    if edm == "Edm.DateTime":
        return datetime.fromisoformat(value)
    return value


class Nudges:
    """Objects ``/webhooks/1c`` calls named for one stream, waiting to be re-read by key."""

    def __init__(
        self, sets: dict[str, str], path: str, metadata: Callable[[], Metadata | None]
    ) -> None:
        self.sets, self.path, self.metadata = sets, path, metadata
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], Nudge] = {}

    def route(self) -> WebhookRoute:
        return WebhookRoute(self.path, self.intake)

    def intake(self, request: Any) -> WebhookIntake:
        """Check a call (ValueError → 400); what it names for this stream is recorded
        only when the engine accepts the call."""
        meta = self.metadata()
        taken, ignored, keys = [], [], []
        for named in named_objects(request.body):
            if named.set_name not in self.sets:
                ignored.append(named.set_name)
                continue
            has = meta is not None and meta.has_entity(named.set_name)
            entity = meta.entity(named.set_name) if has else None  # type: ignore[union-attr]
            keys.append((named.set_name, checked_key(named, entity)))
            taken.append(named.set_name)
        return WebhookIntake(
            taken=list(dict.fromkeys(taken)),
            ignored=list(dict.fromkeys(ignored)),
            accept=partial(self._record, keys) if keys else None,
        )

    def take(self, request: Any) -> WebhookIntake:
        """Check a call and record what it names for this stream at once."""
        intake = self.intake(request)
        if intake.accept is not None:
            intake.accept()
        return intake

    def _record(self, keys: list[tuple[str, dict[str, Any]]]) -> None:
        with self._lock:
            for set_name, key in keys:
                self._pending[(set_name, key_text(key))] = Nudge(set_name, key)

    def drain(self, limit: int | None = None, *, drop_rest: bool = False) -> list[Nudge]:
        """Up to ``limit`` nudges, oldest first; the rest wait for the next run, or are
        dropped (``drop_rest``) where the stream's next read brings them anyway."""
        with self._lock:
            pending = list(self._pending.values())
            taken, rest = pending[:limit], pending[limit:] if limit is not None else []
            self._pending = {} if drop_rest else {(n.set_name, key_text(n.key)): n for n in rest}
        return taken

    def put_back(self, nudges: list[Nudge], error: str | None = None) -> list[Rejected]:
        """Wait for the next run; with ``error`` (1C did not answer) it counts as a try,
        and a nudge out of tries is returned as rejected instead."""
        given_up = []
        with self._lock:
            for nudge in nudges:
                tries = nudge.tries + (1 if error else 0)
                if tries >= REREAD_TRIES:
                    given_up.append(
                        _rejected(nudge, f"1C did not answer {tries} re-reads: {error}")
                    )
                    continue
                slot = (nudge.set_name, key_text(nudge.key))
                self._pending.setdefault(slot, Nudge(nudge.set_name, nudge.key, tries))
        return given_up

    def reread_pending(
        self,
        client: Any,
        reader: Callable[[], EntryReader],
        seen_at: str,
        *,
        limit: int | None = None,
        drop_rest: bool = False,
    ) -> tuple[list[Event], list[Rejected]] | None:
        """Re-read what was nudged, at most ``limit`` objects a run (None when nothing
        was); raises, keeping every nudge, only when ``$metadata`` cannot be read.

        A nudge only brings a change sooner; re-reading hundreds of them one by one
        (a burst of site orders, a 1C answering slowly) would hold back the stream's
        own read, which brings them all: so a run re-reads a few and leaves the rest."""
        nudged = self.drain(limit, drop_rest=drop_rest)
        if not nudged:
            return None
        try:
            entry_reader = reader()
        except Exception:
            self.put_back(nudged)
            raise
        outcome = reread(client, entry_reader, nudged, seen_at)
        return outcome.events, outcome.rejected + self.put_back(outcome.later, outcome.error)


@dataclass
class Reread:
    events: list[Event] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    later: list[Nudge] = field(default_factory=list)  # 1C did not answer: the next run
    error: str | None = None


def reread(client: Any, reader: EntryReader, nudges: list[Nudge], seen_at: str) -> Reread:
    """The nudged objects, read by key now (a 404 means the object is gone).

    One that cannot be read for good — a key that is no key of its set, a 4xx
    from 1C, a reply that does not type — is rejected alone.  When 1C does
    not answer (5xx, a timeout, already retried by the client), the rest wait
    for the next run and the stream goes on.
    """
    outcome = Reread()
    for position, nudge in enumerate(nudges):
        set_name, key = nudge.set_name, nudge.key
        try:
            path = key_path(reader.meta.entity(set_name), set_name, key)
        except (KeyError, TypeError, ValueError) as exc:
            outcome.rejected.append(_rejected(nudge, f"not a key of {set_name}: {_reason(exc)}"))
            continue
        try:
            data = client.get_json(path)
        except ErpNotFound:
            data = None
        except PermanentError as exc:
            outcome.rejected.append(_rejected(nudge, f"1C refused the re-read of {path}: {exc}"))
            continue
        except (TransientError, requests.RequestException) as exc:
            outcome.later, outcome.error = nudges[position:], one_line(exc)
            log.warning(
                "1C did not answer the re-read of %s; %d nudge(s) wait for the next run: %s",
                path,
                len(outcome.later),
                outcome.error,
            )
            break
        if data is not None and not isinstance(data, dict):
            outcome.rejected.append(_rejected(nudge, f"1C answered {path} with {_kind(data)}"))
            continue
        found, bad = reader.events([(set_name, key, data)], seen_at, f"re-read of {path}")
        outcome.events += found
        outcome.rejected += bad
    return outcome


def _rejected(nudge: Nudge, error: str) -> Rejected:
    subject = f"1C webhook nudge: {describe(nudge.set_name, nudge.key, None)}"
    return Rejected(subject, error, {"set": nudge.set_name, "key": nudge.key})


def _guid(value: Any, where: str) -> str:
    if isinstance(value, str):
        try:
            text = str(uuid.UUID(value.strip()))
        except ValueError:
            text = None
        if text == EMPTY_GUID:
            raise ValueError(f"{where}: the empty reference (all zeros) names no object")
        if text is not None:
            return text
    raise ValueError(
        f"{where}: expected a GUID like 8d1d7287-0000-0000-0000-000000000000, got {_shown(value)}"
    )


def _scalar(value: Any) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, bool | int)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return _shown(value)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _reason(exc: Exception) -> str:
    return str(exc).strip("'\"") if isinstance(exc, KeyError) else str(exc)
