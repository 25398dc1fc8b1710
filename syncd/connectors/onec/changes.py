"""What the 1C sources share: an entry of a 1C set becomes an event.

An event from 1C carries ``{"set", "key", "data", "deleted", "hash"}``:
the set's name, the object's key fields, the entry in one JSON form
(``StructuredType.normalize``), whether the object is gone, and the hash of
its content without ``DataVersion`` (1C bumps that on every write, even a
no-op, so the hash tells a real change from a re-write).  The event version
is the ``DataVersion`` where the object has one; a register record has none,
so its version is the hash plus where it was seen, which keeps A→B→A apart.

The ``/webhooks/1c`` nudge, and the re-read by key it leads to, live in
``nudges.py``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

from syncd.connectors.onec.edm import typed
from syncd.connectors.onec.metadata import Metadata
from syncd.connectors.onec.values import literal
from syncd.engine.contracts import Rejected
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
    """Turns 1C entries of the configured sets into events (and bad ones into rejects).

    The one place where 1C data is typed (``StructuredType.normalize``): an
    entry read as Atom (exchange packages) or as JSON (re-reads by key, date
    windows, backfills) gives the same event data and the same hash.
    """

    def __init__(self, system: str, stream: str, sets: dict[str, str], meta: Metadata) -> None:
        self.system, self.stream, self.sets, self.meta = system, stream, sets, meta
        for set_name in sets:
            meta.entity(set_name)  # KeyError naming a set the publication lacks

    def key_of(self, set_name: str, data: dict) -> dict[str, Any]:
        """The object's key from its (typed) data."""
        return {name: data[name] for name in self.meta.entity(set_name).key}

    def typed_key(self, set_name: str, key: dict[str, Any]) -> dict[str, Any]:
        """A key read from a URL (text), typed like the data."""
        entity = self.meta.entity(set_name)
        return {name: typed(value, entity.type_of(name), name) for name, value in key.items()}

    def event(
        self, set_name: str, key: dict[str, Any] | None, data: dict | None, seen_at: str
    ) -> Event:
        """The event of one entry (``data`` None: the object is gone); ``BadValue`` if untyped."""
        if data is not None:
            data = self.meta.entity(set_name).normalize(data)
            key = self.key_of(set_name, data)
        elif key is not None:
            key = self.typed_key(set_name, key)
        else:
            raise ValueError("an entry with neither data nor key")
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
        self, entries: Iterable[tuple[str, dict | None, dict | None]], seen_at: str, where: str
    ) -> tuple[list[Event], list[Rejected]]:
        """``(set, key or None, data or None)`` triples → events; unreadable ones rejected.

        A rejected entry names the package, its place, the object and the
        field: ``SelectChanges message 7, entry 3: Document_ЗаказКлиента
        8d1d…: field Товары[2].Отменено: expected Edm.Boolean, got 'да'``.
        """
        events, rejected = [], []
        for position, (set_name, key, data) in enumerate(entries, start=1):
            if set_name not in self.sets:
                continue
            event, bad = self.entry(set_name, key, data, seen_at, f"{where}, entry {position}")
            if event is not None:
                events.append(event)
            if bad is not None:
                rejected.append(bad)
        return events, rejected

    def entry(
        self, set_name: str, key: dict | None, data: dict | None, seen_at: str, where: str
    ) -> tuple[Event | None, Rejected | None]:
        """One entry: its event, or why it was rejected (``where`` says where it was read)."""
        try:
            return self.event(set_name, key, data, seen_at), None
        except (KeyError, TypeError, ValueError) as exc:
            subject = f"{where}: {describe(set_name, key, data)}"
            return None, Rejected(subject, f"unreadable: {_reason(exc)}", data)


def describe(set_name: str, key: dict | None, data: dict | None) -> str:
    """``Document_X 8d1d…`` or ``Register Name=…;…``: the object, as far as it can be told."""
    names = list(key or {}) or [n for n in ("Ref_Key", "Recorder", "Заказ") if n in (data or {})]
    shown = {n: (key or data or {}).get(n) for n in names}
    return f"{set_name} {key_text(shown)}" if shown else set_name


def _reason(exc: Exception) -> str:
    return str(exc).strip("'\"") if isinstance(exc, KeyError) else str(exc)
