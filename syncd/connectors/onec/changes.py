"""What the 1C sources share: an entry becomes an event; the ``/webhooks/1c`` nudge.

An event from 1C carries ``{"set", "key", "data", "deleted", "hash"}``:
the set's name, the object's key fields, the entry in one JSON form
(``StructuredType.normalize``), whether the object is gone, and the hash of
its content without ``DataVersion`` (1C bumps that on every write, even a
no-op, so the hash tells a real change from a re-write).  The event version
is the ``DataVersion`` where the object has one; a register record has none,
so its version is the hash plus where it was seen, which keeps A→B→A apart.

The webhook ``POST /webhooks/1c`` is posted by an event subscription in 1C
(see docs/onec.md): ``{"type": "Document_ЗаказКлиента", "ref": "<guid>"}``.
It is a nudge: the named object is re-read by key at the stream's next run,
and polling or the exchange plan stays the source of truth.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

from syncd.connectors.onec.errors import ErpNotFound
from syncd.connectors.onec.metadata import Metadata
from syncd.connectors.onec.values import literal
from syncd.engine.contracts import Rejected, WebhookRoute
from syncd.model import Event, fingerprint


def key_text(key: dict[str, Any]) -> str:
    """The object's id in syncd: the GUID alone, or ``Name=value;…`` for a register record."""
    if list(key) == ["Ref_Key"]:
        return str(key["Ref_Key"]).lower()
    return ";".join(f"{name}={value}" for name, value in key.items())


def content_hash(data: dict | None) -> str:
    if data is None:
        return "deleted"
    return fingerprint({k: v for k, v in data.items() if k != "DataVersion"})


def entity_path(set_name: str, key: dict[str, Any]) -> str:
    """``Document_X(guid'…')`` or ``Register(Name='…',…)`` for a GET by key."""
    if list(key) == ["Ref_Key"]:
        return f"{set_name}({literal(uuid.UUID(str(key['Ref_Key'])))})"
    parts = ",".join(f"{name}={literal(value)}" for name, value in key.items())
    return f"{set_name}({parts})"


class EntryReader:
    """Turns 1C entries of the configured sets into events (and bad ones into rejects)."""

    def __init__(self, system: str, stream: str, sets: dict[str, str], meta: Metadata) -> None:
        self.system, self.stream, self.sets, self.meta = system, stream, sets, meta
        for set_name in sets:
            meta.entity(set_name)  # KeyError naming a set the publication lacks

    def key_of(self, set_name: str, data: dict) -> dict[str, Any]:
        return {name: data[name] for name in self.meta.entity(set_name).key}

    def event(self, set_name: str, key: dict[str, Any], data: dict | None, seen_at: str) -> Event:
        if data is not None:
            data = self.meta.entity(set_name).normalize(data)
        digest = content_hash(data)
        version = (data or {}).get("DataVersion") or f"{digest}@{seen_at}"
        return Event(
            system=self.system,
            entity=self.sets[set_name],
            external_id=key_text(key),
            version=str(version),
            payload={
                "set": set_name,
                "key": key,
                "data": data,
                "deleted": data is None,
                "hash": digest,
            },
            changed_at=time.time(),
            stream=self.stream,
        )

    def events(
        self, entries: Iterable[tuple[str, dict | None, dict]], seen_at: str, where: str
    ) -> tuple[list[Event], list[Rejected]]:
        """``(set, key or None, data or None)`` triples → events; unreadable ones rejected."""
        events, rejected = [], []
        for position, (set_name, key, data) in enumerate(entries, start=1):
            if set_name not in self.sets:
                continue
            try:
                key = key or self.key_of(set_name, data or {})
                events.append(self.event(set_name, key, data, seen_at))
            except (KeyError, TypeError, ValueError) as exc:
                rejected.append(
                    Rejected(f"{where}, entry {position} ({set_name})", f"unreadable: {exc}", data)
                )
        return events, rejected


class Nudges:
    """Objects a ``/webhooks/1c`` call named, waiting to be re-read by key."""

    def __init__(self, sets: dict[str, str], path: str) -> None:
        self.sets, self.path = sets, path
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], dict[str, Any]] = {}

    def route(self) -> WebhookRoute:
        return WebhookRoute(self.path, self.take)

    def take(self, request: Any) -> list[Event] | None:
        try:  # 1C 8.2 prefixes a UTF-8 body with a BOM
            body = json.loads(request.body.decode("utf-8-sig"))
        except ValueError as exc:
            raise ValueError(f"1C webhook: body is not JSON: {exc}") from None
        items = body if isinstance(body, list) else [body]
        mine = False
        for item in items:
            if not isinstance(item, dict) or not item.get("type"):
                raise ValueError('1C webhook: expected {"type": "Document_…", "ref": "<guid>"}')
            if item["type"] not in self.sets:
                continue
            key = item.get("key") or {"Ref_Key": _guid(item.get("ref"))}
            with self._lock:
                self._pending[(item["type"], key_text(key))] = key
            mine = True
        return [] if mine else None

    def drain(self) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            pending, self._pending = self._pending, {}
        return [(set_name, key) for (set_name, _), key in pending.items()]

    def put_back(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        with self._lock:
            for set_name, key in items:
                self._pending.setdefault((set_name, key_text(key)), key)


def reread(client: Any, reader: EntryReader, items: list, seen_at: str) -> list[Event]:
    """The nudged objects, read by key now (a 404 means the object is gone)."""
    events = []
    for set_name, key in items:
        try:
            data = client.get_json(entity_path(set_name, key))
        except ErpNotFound:
            data = None
        events.append(reader.event(set_name, key, data, seen_at))
    return events


def _guid(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValueError("1C webhook: ref must be a GUID") from None
