"""The versions retention keeps move out of the inbox into ``inbox_seen``.

Retention used to leave the newest event of each object as a thin row in
``inbox`` (state ``pruned``, payload emptied) so that a repeat of that change
was still dropped.  Scattered among newer rows, those thin rows kept half-empty
pages that could never be given back (about 4 KB per order on SQLite).  Now the
object's key and that version go to ``inbox_seen``, one short row per object,
and the inbox row is deleted; this migration moves the thin rows there.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# the newest thin row of each object (there is only one, but be sure)
MOVE = """
    INSERT INTO inbox_seen (external_id, system, entity, version)
    SELECT external_id, system, entity, version FROM inbox
    WHERE id IN (SELECT max(id) FROM inbox WHERE state = 'pruned'
                 GROUP BY external_id, system, entity)
"""
BACK = """
    INSERT INTO inbox (stream, system, entity, external_id, version, payload,
                       observed_at, state)
    SELECT '', system, entity, external_id, version, '', 0, 'pruned' FROM inbox_seen
"""


def upgrade() -> None:
    op.create_table(
        "inbox_seen",
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("system", sa.String(50), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("version", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("external_id", "system", "entity", name="pk_inbox_seen"),
        sqlite_with_rowid=False,
    )
    op.execute(MOVE)
    op.execute("DELETE FROM inbox WHERE state = 'pruned'")
    if op.get_bind().dialect.name == "postgresql":
        # rows replaced in place as retention moves on: vacuumed as eagerly as the inbox
        op.execute(
            "ALTER TABLE inbox_seen SET (autovacuum_vacuum_scale_factor = 0.02, "
            "autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0.01, "
            "autovacuum_vacuum_cost_delay = 0, fillfactor = 85)"
        )


def downgrade() -> None:
    op.execute(BACK)
    op.drop_table("inbox_seen")
