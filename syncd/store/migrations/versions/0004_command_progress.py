"""A command remembers how far a multi-step write got (e.g. the version its own PATCH made),
and how many of its attempts were cut short by the process dying.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("progress", sa.Text))
        batch.add_column(sa.Column("interruptions", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("interruptions")
        batch.drop_column("progress")
