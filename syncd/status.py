"""What ``syncd status`` reports: streams, outbox, dead letters, conflicts.

Read from the store only, so it works while the daemon runs (or is down)
and shows the same picture from any instance.
"""

from __future__ import annotations

import time
from typing import Any

from syncd.store import Store, conflicts, cursors, dead_letters, inbox, leases, outbox, retention


def status_report(store: Store) -> dict[str, Any]:
    now = time.time()
    size = retention.size_bytes(store)
    with store.read() as conn:
        streams = {
            s.stream: {
                "cursor": s.cursor,
                "events": s.events_total,
                "last_success": s.last_success_at,
                "last_attempt": s.last_attempt_at,
                "last_error": s.last_error,
            }
            for s in cursors.all_states(conn)
        }
        states = outbox.counts(conn)
        letters = dead_letters.count_open(conn)
        holders = [
            {
                "name": lease.name,
                "owner": lease.owner,
                "epoch": lease.epoch,
                "expires_in": round(lease.expires_at - now, 1),
            }
            for lease in leases.holders(conn)
            if lease.expires_at > now
        ]
        return {
            "streams": streams,
            "inbox": {"pending": inbox.count_pending(conn)},
            "outbox": {
                "pending": states.get("pending", 0) + states.get("running", 0),
                "retrying": states.get("retrying", 0),
                "failed": states.get("dead", 0),
            },
            "dead_letters": sum(letters.values()),
            "dead_letters_by_kind": letters,
            "conflicts": conflicts.count_open(conn),
            "leases": holders,
            "store": {"size_bytes": size},
        }


def _when(ts: float | None) -> str:
    if not ts:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def render_text(report: dict[str, Any]) -> str:
    lines = ["streams:"]
    if not report["streams"]:
        lines.append("  (none has run yet)")
    for name, s in report["streams"].items():
        state = f"error: {s['last_error']}" if s["last_error"] else "ok"
        lines.append(
            f"  {name}: {s['events']} events, last success {_when(s['last_success'])}, "
            f"cursor {s['cursor']!r}, {state}"
        )
    o = report["outbox"]
    lines.append(f"inbox: {report['inbox']['pending']} pending")
    lines.append(f"outbox: {o['pending']} pending, {o['retrying']} retrying, {o['failed']} failed")
    lines.append(f"dead letters: {report['dead_letters']} open")
    lines.append(f"conflicts: {report['conflicts']} open")
    if "store" in report:
        lines.append(f"store: {report['store']['size_bytes'] / 1e6:.1f} MB on disk")
    for lease in report["leases"]:
        lines.append(f"lease {lease['name']}: {lease['owner']} (epoch {lease['epoch']})")
    return "\n".join(lines)
