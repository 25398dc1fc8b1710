"""``inbox_seen`` keyed by a 16-byte digest of the object instead of its id.

A kept version's row held the object's system, entity and external id — for a
1C register record ~120 bytes — and PostgreSQL keeps a table's key twice (in
the table and in its primary-key index): ~265 bytes a row there, three rows an
order.  Keyed by 16 bytes of BLAKE2b over (system, entity, external id) the row
is ~60 bytes on either store.  The rows kept so far are carried over, digested.

Downgrade: the digests cannot give the ids back, so the kept versions are lost
(a repeat of a change older than the retention period is then planned again,
and the flows' own version checks find nothing to do).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BATCH = 5000
VACUUM_EAGERLY = (  # as 0006 set it: rows replaced in place as retention moves on
    "ALTER TABLE inbox_seen SET (autovacuum_vacuum_scale_factor = 0.02, "
    "autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0.01, "
    "autovacuum_vacuum_cost_delay = 0, fillfactor = 85)"
)


def _digest(system: str, entity: str, external_id: str) -> bytes:
    # the same as syncd.store.inbox.object_digest, frozen here with this revision
    text = f"{system}\x1f{entity}\x1f{external_id}"
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def _set_aside_old(postgresql: bool) -> None:
    if postgresql:  # index names are the schema's: free pk_inbox_seen for the new table
        op.execute("ALTER TABLE inbox_seen RENAME CONSTRAINT pk_inbox_seen TO pk_inbox_seen_old")
    op.rename_table("inbox_seen", "inbox_seen_old")


def upgrade() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    _set_aside_old(postgresql)
    new = op.create_table(
        "inbox_seen",
        sa.Column("object_digest", sa.LargeBinary(16), nullable=False),
        sa.Column("version", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("object_digest", name="pk_inbox_seen"),
        sqlite_with_rowid=False,
    )
    rows = bind.execute(sa.text("SELECT system, entity, external_id, version FROM inbox_seen_old"))
    while part := rows.fetchmany(BATCH):
        bind.execute(
            new.insert(),
            [{"object_digest": _digest(s, e, i), "version": v} for s, e, i, v in part],
        )
    rows.close()
    op.drop_table("inbox_seen_old")
    if postgresql:
        op.execute(VACUUM_EAGERLY)


def downgrade() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    _set_aside_old(postgresql)
    op.create_table(
        "inbox_seen",
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("system", sa.String(50), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("version", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("external_id", "system", "entity", name="pk_inbox_seen"),
        sqlite_with_rowid=False,
    )
    op.drop_table("inbox_seen_old")
    if postgresql:
        op.execute(VACUUM_EAGERLY)
