"""The bindings' facts deflated against a preset dictionary (``z1:``).

The code from this revision on writes facts packed (``syncd/store/facts_codec.py``:
an order's ~750 bytes of JSON take ~220) and reads both forms.  Upgrading packs
the facts already stored, so that an existing store shrinks too (on
PostgreSQL the freed space is reused by the table; SQLite gives it back in
small steps, as after retention); downgrading unpacks them, since the code
before it reads JSON only.  Both go through the table in batches of 1,000 rows
by id (about 25 µs a row: ~25 s for a million).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from syncd.store import facts_codec

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BATCH = 1000
_PAGE = sa.text(
    "SELECT id, facts FROM bindings WHERE id > :after AND facts IS NOT NULL ORDER BY id LIMIT :n"
)
_SET = sa.text("UPDATE bindings SET facts = :facts WHERE id = :id")


def _rewrite(change: Callable[[str], str]) -> None:
    bind = op.get_bind()
    after = 0
    while rows := bind.execute(_PAGE, {"after": after, "n": BATCH}).all():
        after = rows[-1].id
        changed = [{"id": r.id, "facts": new} for r in rows if (new := change(r.facts)) != r.facts]
        if changed:
            bind.execute(_SET, changed)


def upgrade() -> None:
    _rewrite(lambda stored: facts_codec.pack(facts_codec.unpack(stored)))


def downgrade() -> None:
    _rewrite(facts_codec.unpack)
