"""Free stock per offer and store, as 1C last said: what the order robot checks.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stock",
        sa.Column("offer", sa.String(255), nullable=False),
        sa.Column("store", sa.String(100), nullable=False),
        sa.Column("available", sa.String(40), nullable=False),
        sa.Column("changed_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("offer", "store", name="pk_stock"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("stock")
