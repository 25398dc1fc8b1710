"""Bindings keep the facts a flow remembers about an object (the last state seen on each side).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bindings") as batch:
        batch.add_column(sa.Column("facts", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("bindings") as batch:
        batch.drop_column("facts")
