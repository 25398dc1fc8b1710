"""Identity by the model: blocks, the trained model, split customers, a record's person.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_blocks",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("identity_id", sa.BigInteger, primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "identity_model",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("trained_at", sa.Float, nullable=False),
    )
    op.create_table(
        "identity_apart",
        sa.Column("identity_id", sa.BigInteger, primary_key=True),
        sa.Column("other_id", sa.BigInteger, primary_key=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    with op.batch_alter_table("identity_records") as batch:
        batch.add_column(sa.Column("person", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("identity_records") as batch:
        batch.drop_column("person")
    op.drop_table("identity_apart")
    op.drop_table("identity_model")
    op.drop_table("identity_blocks")
