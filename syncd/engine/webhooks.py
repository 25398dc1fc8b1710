"""One webhook call, offered to every stream that serves its path, answered truthfully.

Every handler first looks at the call without recording anything (a
``WebhookIntake``); a ValueError from any of them is a 400 and nothing is
kept.  Then each stream that takes part records its part, its events go into
the inbox, and its stream is nudged to run at once.  The answer says what
happened:

- **202** ``{"accepted", "new", "streams"}`` — at least one stream took it;
  ``ignored`` lists what the call named that no stream reads, if anything;
- **200** ``{"accepted": 0, "streams": 0, "ignored": [...]}`` — the call is
  well formed but names only things no source reads (``no source reads
  Document_X``): not an error of the sender's, so 1C does not retry it, and
  not a 404, which would say the address is wrong;
- **404** — no source of the running configuration serves this path at all
  (a reload removed them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from syncd.engine.contracts import Source, WebhookIntake
from syncd.engine.sourcing import take_pushed
from syncd.store import Store

log = logging.getLogger(__name__)

_WARNED_MAX = 1000  # subjects warned about once each; a bound, as callers choose the names


class WebhookDispatch:
    """The handler of one webhook path, over the sources running now."""

    def __init__(
        self,
        path: str,
        sources: Callable[[], dict[str, Source]],
        store: Store,
        nudge: Callable[[str], None],
    ) -> None:
        self.path, self.sources, self.store, self.nudge = path, sources, store, nudge
        self._warned: set[str] = set()

    def __call__(self, request: Any) -> tuple[int, dict]:
        intakes: list[tuple[str, WebhookIntake]] = []
        served = False
        for name, source in list(self.sources().items()):
            for route in source.webhooks():
                if route.path != self.path:
                    continue
                served = True
                intake = _as_intake(route.handler(request), self.path)
                if intake is not None:
                    intakes.append((name, intake))
        if not served:
            return 404, {"error": f"no source takes {self.path} in the running configuration"}
        taking = [(name, intake) for name, intake in intakes if intake.takes_part]
        accepted = new = 0
        for name, intake in taking:
            if intake.accept is not None:
                intake.accept()
            accepted += len(intake.events)
            new += take_pushed(self.store, name, intake.events) if intake.events else 0
            self.nudge(name)
        ignored = self._ignored(intakes)
        if not taking:
            reasons = ignored or [f"no stream at {self.path} takes this call"]
            return 200, {"accepted": 0, "new": 0, "streams": 0, "ignored": reasons}
        answer: dict[str, Any] = {"accepted": accepted, "new": new, "streams": len(taking)}
        if ignored:
            answer["ignored"] = ignored
        return 202, answer

    def _ignored(self, intakes: list[tuple[str, WebhookIntake]]) -> list[str]:
        """What the call named that no stream took, as ``no source reads X``."""
        taken = {subject for _, intake in intakes for subject in intake.taken}
        named = dict.fromkeys(s for _, intake in intakes for s in intake.ignored if s not in taken)
        for subject in named:
            if subject not in self._warned and len(self._warned) < _WARNED_MAX:
                self._warned.add(subject)
                log.warning(
                    "webhook %s names %s, which no source reads: ignored (add it to a source's "
                    "sets or stop sending it)",
                    self.path,
                    subject,
                )
        return [f"no source reads {subject}" for subject in named]


def _as_intake(result: WebhookIntake | list | None, path: str) -> WebhookIntake | None:
    """A handler's answer in one form: a list is taken whole (events or a plain nudge)."""
    if result is None or isinstance(result, WebhookIntake):
        return result
    return WebhookIntake(events=list(result), taken=[path])
