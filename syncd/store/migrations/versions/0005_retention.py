"""Retention: indexes that find what is old enough to prune, and space given back.

- ``ix_inbox_processed`` (processed_at, id) over processed events only, and
  ``ix_outbox_finished`` (done_at) over finished commands only: retention
  walks them oldest first and stops at its cutoff (syncd/store/retention.py);
- PostgreSQL: the eager autovacuum 0001 gave inbox, outbox and bindings gets a
  vacuum threshold and reaches dead_letters too; bindings and outbox leave
  room in each page (fillfactor) so that an update can stay in its page (HOT);
- SQLite: incremental auto-vacuum.  Turning it on in an existing file takes a
  VACUUM, which cannot run inside the migration's transaction: ``Store.upgrade``
  does it after the migrations (syncd/store/db.py); new files have it from the
  start.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PROCESSED = sa.text("inbox.state IN ('done', 'failed')")
FINISHED = sa.text("outbox.state IN ('done', 'discarded', 'superseded')")

# Churning tables: vacuumed once 2% of their rows (and at least 1000) are dead,
# analysed after 1% changed (as 0001 set), the vacuum never paused for cost.
EAGER = (
    "autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 1000, "
    "autovacuum_analyze_scale_factor = 0.01, autovacuum_vacuum_cost_delay = 0"
)
CHURNING = ("inbox", "outbox", "bindings", "dead_letters")
# Rows updated in place: 15% of each page left free for the new versions.
FILLFACTOR = {"bindings": 85, "outbox": 85}


def upgrade() -> None:
    op.create_index(
        "ix_inbox_processed",
        "inbox",
        ["processed_at", "id"],
        sqlite_where=PROCESSED,
        postgresql_where=PROCESSED,
    )
    op.create_index(
        "ix_outbox_finished",
        "outbox",
        ["done_at"],
        sqlite_where=FINISHED,
        postgresql_where=FINISHED,
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in CHURNING:
            op.execute(f"ALTER TABLE {table} SET ({EAGER})")
        for table, percent in FILLFACTOR.items():
            op.execute(f"ALTER TABLE {table} SET (fillfactor = {percent})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in FILLFACTOR:
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
        op.execute(
            "ALTER TABLE dead_letters RESET (autovacuum_vacuum_scale_factor, "
            "autovacuum_vacuum_threshold, autovacuum_analyze_scale_factor, "
            "autovacuum_vacuum_cost_delay)"
        )
        for table in ("inbox", "outbox", "bindings"):
            op.execute(f"ALTER TABLE {table} RESET (autovacuum_vacuum_threshold)")
    op.drop_index("ix_outbox_finished", "outbox")
    op.drop_index("ix_inbox_processed", "inbox")
