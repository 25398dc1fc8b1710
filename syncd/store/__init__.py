"""Durable state: inbox, outbox, bindings, cursors, dead letters, conflicts, leases.

One module per concept; each holds the SQL for its tables and takes an open
connection, so callers decide what shares a transaction.
"""

from syncd.store.db import Store

__all__ = ["Store"]
