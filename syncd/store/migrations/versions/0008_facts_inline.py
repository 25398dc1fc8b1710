"""PostgreSQL: the bindings' facts kept in the table, compressed, not in TOAST.

A frequent buyer's figures (20 purchases one by one and the folded totals) are
over 2 KB of JSON, so PostgreSQL moved them out of line, to the bindings' TOAST
table, and every update of them left their old chunks dead there: a small
table (a few thousand chunks) rewritten at every order, whose dead share
reached 30% between two vacuums a second apart.  With the column's storage
``MAIN`` such a value is compressed and stays in the row (moved out only if the
row still cannot fit a page): an update leaves one dead row in a table of tens
of thousands, which the next vacuum takes.  Values already stored move back on
their next update.  SQLite has no such thing: nothing to do there.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE bindings ALTER COLUMN facts SET STORAGE MAIN")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE bindings ALTER COLUMN facts SET STORAGE EXTENDED")
