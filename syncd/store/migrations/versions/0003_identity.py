"""Identity: customers, their blocking keys (with sources), the records bound to them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identities",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("name", sa.String(255), nullable=False, server_default=""),
        sa.Column("display_name", sa.String(255), nullable=False, server_default=""),
        sa.Column("name_source", sa.String(100), nullable=False, server_default=""),
        sa.Column("merged_into", sa.BigInteger),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "identity_keys",
        sa.Column("key", sa.String(320), primary_key=True),
        sa.Column("identity_id", sa.BigInteger, nullable=False),
        sa.Column("source", sa.String(100), nullable=False, server_default=""),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_identity_keys_identity_id", "identity_keys", ["identity_id"])
    op.create_table(
        "identity_records",
        sa.Column("source_id", sa.String(255), primary_key=True),
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("identity_id", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_identity_records_identity_id", "identity_records", ["identity_id"])
    op.create_table(
        "identity_seq",
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("next_id", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("identity_seq", "identity_records", "identity_keys", "identities"):
        op.drop_table(table)
