"""Unfinished commands by object: what holds a command back, found by its object.

A claim takes a command only when no earlier command of its object is unfinished.
PostgreSQL answered that from ``ix_outbox_unfinished`` (target, id), scanning every
unfinished command for each candidate, once ANALYZE had seen a table of applied
commands (2.5 s a claim with 10,000 pending behind 100,000 applied).  This index
answers it with one probe per candidate on either store.  It holds only the
unfinished commands, so it stays small however many applied ones are kept.  Its
predicate says "not finished" where ix_outbox_unfinished says "pending, running or
dead" (the same rows): the claim's probe names this one's, so PostgreSQL cannot
take the other index for it, which it did when statistics taken while few commands
were unfinished made both indexes look empty (9 s a claim, 50,000 pending).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# the unfinished states, spelt as "not finished": see syncd/store/schema.py
NOT_FINISHED = sa.text("outbox.state NOT IN ('done', 'discarded', 'superseded')")


def upgrade() -> None:
    op.create_index(
        "ix_outbox_unfinished_object",
        "outbox",
        ["object_key", "id"],
        sqlite_where=NOT_FINISHED,
        postgresql_where=NOT_FINISHED,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_unfinished_object", "outbox")
