"""What flows share about syncd's own status moves in the CRM.

The order robot and the call chain move CRM orders through the CRM sink's
``move_status`` (``syncd.connectors.retailcrm.status_moves``); the sink hands
the order as moved back to the flows, with a version of its own.  Here:

- ``move_command``: the command of a move, keyed by the order's externalId
  (the same object key as the order flow's CRM writes, so they run in order);
- ``history_position``: where a CRM event sits in the account's history, from
  its version — ``812`` (the history source), ``812-reread-77`` (the CRM sink
  re-read an order after a write that got no answer), ``815-set-77`` (a move:
  815 is the move's own status record) — or None for a move whose record was
  not found (``0-set-77``: the order right after that write, the newest).

    if (pos := history_position(event.version)) is not None and pos < seen: ...
"""

from __future__ import annotations

from syncd.connectors.retailcrm.actions import MoveStatus
from syncd.model import Command, Event


def history_position(version: str) -> int | None:
    """The history id a CRM event's version names (0 for one that names none); None
    for a move whose own status record was not found."""
    try:
        number = int(str(version).split("-", 1)[0])
    except (TypeError, ValueError):
        return 0
    return None if number == 0 and "-set-" in str(version) else number


def move_command(target: str, flow: str, ref: str, move: MoveStatus, cause: Event) -> Command:
    """The command moving CRM order ``ref`` (its externalId) as ``move`` says.  Nothing is
    linked: the cause (a CRM order event, a timer) is not another system's copy of it."""
    return Command.for_event(
        target=target,
        entity="order",
        key=ref,
        cause=cause,
        flow=flow,
        action=move,
        link_origin=False,
    )
