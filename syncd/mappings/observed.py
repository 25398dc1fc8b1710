"""What 1C has actually sent, learnt from the objects syncd has read.

A real 1C publication does not list its configuration enums in ``$metadata``
(``СтатусыЗаказовКлиентов`` and the like are plain strings there), so the
values an admin maps cannot be checked against 1C's schema.  They can be
checked against what 1C sent: the newest events from 1C in the inbox, each
object counted once with its newest values.

    observed = read_observed(store, systems={"erp"})
    observed.objects["Document_ЗаказКлиента"], observed.values[(set_name, "Статус")]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

NEWEST_EVENTS = 10_000  # enough to have seen every status of a working base; cheap to read


@dataclass
class Observed:
    """What 1C has sent: per set, how many objects were read and each field's values."""

    objects: Counter = field(default_factory=Counter)
    values: dict[tuple[str, str], Counter] = field(default_factory=dict)

    @classmethod
    def of(cls, payloads: list[dict]) -> Observed:
        """From 1C events' payloads (``{"set", "key", "data"}``), the newest first;
        each object counted once, with its newest values."""
        seen, observed = set(), cls()
        for payload in payloads:
            set_name, data = payload.get("set"), payload.get("data")
            ident = (set_name, repr(payload.get("key")))
            if not set_name or not isinstance(data, dict) or ident in seen:
                continue
            seen.add(ident)
            observed.objects[set_name] += 1
            for name, value in data.items():
                if isinstance(value, str):
                    observed.values.setdefault((set_name, name), Counter())[value] += 1
        return observed


def read_observed(store: Any, systems: Iterable[str], limit: int = NEWEST_EVENTS) -> Observed:
    """The newest ``limit`` events of the 1C ``systems`` in ``store``'s inbox."""
    from syncd.store import inbox

    with store.read() as conn:
        return Observed.of(inbox.recent_payloads(conn, systems, limit))
