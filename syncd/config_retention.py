"""The ``retention:`` settings: how long the store keeps what it no longer needs.

What each period keeps and why is in ``syncd/store/retention.py`` and
docs/operations.md ("Retention and store size").  Days may be fractional
(tests and benchmarks use minutes).

    retention:
      events_days: 7          # processed inbox events kept whole
      commands_days: 7        # applied commands
      dead_letters_days: 30   # resolved dead letters
      conflicts_days: 30      # resolved conflicts
      every_seconds: 60       # how often housekeeping runs
      batch_rows: 500         # rows per delete transaction
      vacuum_dead_ratio: 0.05 # PostgreSQL: vacuum a table with more dead rows than this
      vacuum_check_seconds: 1 # PostgreSQL: how often that share is looked at

``engine.done_retention_days`` is the old name of ``commands_days``; it still
works, with a warning.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)

DAY = 86400.0


class RetentionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    # processed inbox events are kept whole this long; beyond it the version of each
    # object's newest event stays (inbox_seen) so that a repeat is still recognised
    events_days: float = Field(7.0, ge=0)
    # applied (done, discarded, superseded) commands
    commands_days: float = Field(7.0, ge=0)
    # resolved (retried or discarded) dead letters; open ones are never pruned
    dead_letters_days: float = Field(30.0, ge=0)
    # resolved conflicts; open ones are never pruned
    conflicts_days: float = Field(30.0, ge=0)
    # how often the instance holding the inbox lease prunes
    every_seconds: float = Field(60.0, gt=0)
    # rows per delete transaction (each batch is its own short transaction)
    batch_rows: int = Field(500, ge=1, le=10000)
    # PostgreSQL: a table syncd churns whose dead rows (or dead TOAST chunks) exceed
    # this share (and 50) is vacuumed, whether or not autovacuum runs; 0 leaves it
    # all to autovacuum
    vacuum_dead_ratio: float = Field(0.05, ge=0, le=1)
    # PostgreSQL: how often the instance holding the inbox lease looks at the dead share
    # (one small statistics query); each table over the share is vacuumed at a look
    vacuum_check_seconds: float = Field(1.0, gt=0)


def take_deprecated_names(engine: Any, retention: RetentionSettings) -> None:
    """``engine.done_retention_days``, when set, becomes ``retention.commands_days``
    (unless that is set too), with a warning either way."""
    if "done_retention_days" not in engine.model_fields_set:
        return
    if "commands_days" in retention.model_fields_set:
        log.warning(
            "engine.done_retention_days is deprecated and ignored: retention.commands_days "
            "is set (%s days)",
            retention.commands_days,
        )
        return
    retention.commands_days = engine.done_retention_days
    log.warning(
        "engine.done_retention_days is deprecated: set retention.commands_days instead "
        "(taking %s days from it)",
        engine.done_retention_days,
    )
