"""Initial state tables: inbox, outbox, bindings, cursors, dead letters, conflicts, leases.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("stream", sa.String(100), nullable=False),
        sa.Column("system", sa.String(50), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("version", sa.String(255), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("changed_at", sa.Float),
        sa.Column("observed_at", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("outcome", sa.String(32)),
        sa.Column("processed_at", sa.Float),
        sa.PrimaryKeyConstraint("id", name="pk_inbox"),
        sa.UniqueConstraint(
            "external_id",
            "system",
            "entity",
            "version",
            name="uq_inbox_external_id_system_entity_version",
        ),
    )
    op.create_index("ix_inbox_state_id", "inbox", ["state", "id"])

    op.create_table(
        "outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.String(512), nullable=False),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("object_id", sa.String(255), nullable=False),
        sa.Column("object_key", sa.String(512), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("flow", sa.String(100), nullable=False, server_default=""),
        sa.Column("origin_system", sa.String(50), nullable=False, server_default=""),
        sa.Column("origin_id", sa.String(255), nullable=False, server_default=""),
        sa.Column("source_changed_at", sa.Float),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("claim_token", sa.String(64)),
        sa.Column("claimed_until", sa.Float),
        sa.Column("last_error", sa.Text),
        sa.Column("done_at", sa.Float),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
    )
    op.create_index("ix_outbox_object_key_id", "outbox", ["object_key", "id"])
    unfinished = sa.text("outbox.state IN ('pending', 'running', 'dead')")
    op.create_index(
        "ix_outbox_unfinished",
        "outbox",
        ["target", "id"],
        sqlite_where=unfinished,
        postgresql_where=unfinished,
    )

    op.create_table(
        "bindings",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("link", sa.String(64), nullable=False),
        sa.Column("system", sa.String(50), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64)),
        sa.Column("remote_id", sa.String(255)),
        sa.Column("version_seen", sa.String(255)),
        sa.Column("written_at", sa.Float),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_bindings"),
        sa.UniqueConstraint(
            "external_id", "system", "entity", name="uq_bindings_external_id_system_entity"
        ),
    )
    op.create_index("ix_bindings_link", "bindings", ["link"])

    op.create_table(
        "cursors",
        sa.Column("stream", sa.String(100), nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("epoch", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("events_total", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.Float),
        sa.Column("last_attempt_at", sa.Float),
        sa.Column("last_success_at", sa.Float),
        sa.Column("last_error", sa.Text),
        sa.PrimaryKeyConstraint("stream", name="pk_cursors"),
    )

    op.create_table(
        "dead_letters",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(100), nullable=False),
        sa.Column("ref_id", sa.BigInteger),
        sa.Column("subject", sa.String(512), nullable=False),
        sa.Column("payload", sa.Text),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("state", sa.String(16), nullable=False, server_default="open"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("resolved_at", sa.Float),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
    )
    op.create_index("ix_dead_letters_state_id", "dead_letters", ["state", "id"])

    op.create_table(
        "conflicts",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("flow", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("object_key", sa.String(512), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="open"),
        sa.Column("resolution", sa.String(32)),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("resolved_at", sa.Float),
        sa.PrimaryKeyConstraint("id", name="pk_conflicts"),
    )
    op.create_index("ix_conflicts_state_id", "conflicts", ["state", "id"])

    op.create_table(
        "leases",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("epoch", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("acquired_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )

    if op.get_bind().dialect.name == "postgresql":
        # Queue-like tables churn: analyse and vacuum them early, or plans and
        # dead index entries go stale during a burst (a backfill, a sale day).
        for table in ("inbox", "outbox", "bindings"):
            op.execute(
                f"ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0.02, "
                "autovacuum_analyze_scale_factor = 0.01, autovacuum_vacuum_cost_delay = 0)"
            )


def downgrade() -> None:
    for name in ("leases", "conflicts", "dead_letters", "cursors", "bindings", "outbox", "inbox"):
        op.drop_table(name)
