"""Named crash points for testing durability (never active in normal runs).

``SYNCD_FAILPOINT=flow.after_plan`` makes the process SIGKILL itself the
first time it passes ``hit("flow.after_plan")``; ``name:N`` on the N-th time.
Tests use it to kill the daemon between any two steps of
source → inbox → flow → outbox → sink and check nothing is lost.
"""

from __future__ import annotations

import os
import signal
import threading

POINTS = (
    "source.after_poll",  # events read, not yet stored
    "source.after_commit",  # events and cursor stored
    "flow.after_plan",  # commands planned, not yet stored
    "flow.after_commit",  # commands stored, events marked processed
    "sink.after_apply",  # write applied outside, result not yet stored
    "sink.after_commit",  # result stored
    # inside multi-step writes, between their outside calls
    "erp.after_patch",  # 1C order PATCHed, its version not yet noted, not yet posted
    "erp.after_post",  # 1C order posted, not yet re-read and verified
    "crm.after_status_move",  # CRM order's status moved, its reminder task not yet made
)

_lock = threading.Lock()
_counts: dict[str, int] = {}
_armed: tuple[str, int] | None = None
_spec = os.environ.get("SYNCD_FAILPOINT", "")
if _spec:
    name, _, nth = _spec.partition(":")
    if name not in POINTS:
        raise RuntimeError(f"SYNCD_FAILPOINT names unknown point {name!r}; known: {POINTS}")
    _armed = (name, int(nth or 1))


def hit(name: str) -> None:
    if _armed is None or _armed[0] != name:
        return
    with _lock:
        _counts[name] = _counts.get(name, 0) + 1
        if _counts[name] >= _armed[1]:
            os.kill(os.getpid(), signal.SIGKILL)
