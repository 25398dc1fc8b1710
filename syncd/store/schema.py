"""The tables syncd keeps its durable state in, declared once.

Times are epoch seconds (UTC) stored as double precision: the same on SQLite
and PostgreSQL, cheap to compare, free of time-zone surprises.  Payloads are
JSON text.  The Alembic migrations in ``migrations/`` create exactly these
tables; a test compares the two.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identity.
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# One row per observed change; a repeat of (system, entity, external_id, version) is dropped.
inbox = Table(
    "inbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("stream", String(100), nullable=False),
    Column("system", String(50), nullable=False),
    Column("entity", String(100), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("version", String(255), nullable=False),
    Column("payload", Text, nullable=False),
    Column("changed_at", Float),
    Column("observed_at", Float, nullable=False),
    # pending → done | failed (retention deletes old processed rows: syncd/store/retention.py)
    Column("state", String(16), nullable=False, server_default="pending"),
    Column("outcome", String(32)),
    Column("processed_at", Float),
    # external_id first: the most selective column leads, so lookups by a batch of
    # ids use the index even before PostgreSQL has statistics for a fresh table
    UniqueConstraint("external_id", "system", "entity", "version"),
    Index(None, "state", "id"),
)
# Processed events by when they were processed: retention walks it oldest first and
# stops at its cutoff.  Pending events are not in it.
PROCESSED_SQL = "inbox.state IN ('done', 'failed')"
Index(
    "ix_inbox_processed",
    inbox.c.processed_at,
    inbox.c.id,
    sqlite_where=text(PROCESSED_SQL),
    postgresql_where=text(PROCESSED_SQL),
)

# What is left of an object's events once retention pruned them all: the version of
# the newest, so that a repeat of that very change is still dropped (inbox.add).  One
# short row per object, keyed by a 16-byte digest of (system, entity, external_id)
# (``inbox.object_digest``) rather than the id itself (a 1C register record's is
# ~120 bytes, and PostgreSQL would hold it twice, in the table and in its key):
# ~60 bytes a row on either store (SQLite: WITHOUT ROWID, the key is the table).
inbox_seen = Table(
    "inbox_seen",
    metadata,
    Column("object_digest", LargeBinary(16), primary_key=True),
    Column("version", String(255), nullable=False),
    sqlite_with_rowid=False,
)

# Free stock per CRM offer (externalId) and CRM store code, as 1C last said; the
# amount as a decimal string (exact on both stores).
stock = Table(
    "stock",
    metadata,
    Column("offer", String(255), nullable=False),
    Column("store", String(100), nullable=False),
    Column("available", String(40), nullable=False),
    Column("changed_at", Float, nullable=False),
    PrimaryKeyConstraint("offer", "store", name="pk_stock"),
    sqlite_with_rowid=False,
)

# Delayed actions (the no-answer chain's "in 3 hours"): due at a time, fired once (an
# event in the inbox, in the same transaction), cancelled when the order moves on.
timers = Table(
    "timers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(255), nullable=False, unique=True),  # scheduling twice is a no-op
    Column("kind", String(100), nullable=False),
    Column("subject", String(255), nullable=False),  # "crm/order/<ref>": what it is about
    Column("due_at", Float, nullable=False),
    Column("payload", Text, nullable=False),
    Column("state", String(20), nullable=False),  # pending | fired | cancelled
    Column("created_at", Float, nullable=False),
    Column("ended_at", Float),
    Column("note", Text),  # why it was cancelled
    Index(None, "state", "due_at"),
    Index(None, "subject", "state"),
)

# Writes to make; one business object's commands run in id order, one at a time.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(512), nullable=False, unique=True),
    Column("target", String(100), nullable=False),
    Column("entity", String(100), nullable=False),
    Column("object_id", String(255), nullable=False),
    Column("object_key", String(512), nullable=False),
    Column("action", String(50), nullable=False),
    Column("payload", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("flow", String(100), nullable=False, server_default=""),
    Column("origin_system", String(50), nullable=False, server_default=""),
    Column("origin_id", String(255), nullable=False, server_default=""),
    Column("source_changed_at", Float),
    Column("created_at", Float, nullable=False),
    # pending → running → done | pending (retry) | dead → pending (retry) | discarded
    Column("state", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Float, nullable=False),
    Column("claimed_by", String(200)),
    Column("claim_token", String(64)),
    Column("claimed_until", Float),
    Column("last_error", Text),
    Column("done_at", Float),
    # JSON: how far a multi-step write got (a sink's own steps, e.g. the version its
    # PATCH produced), so that a retry or a restart goes on from there
    Column("progress", Text),
    # attempts taken back from a claim whose holder died or overran (not the target's fault)
    Column("interruptions", Integer, nullable=False, server_default="0"),
    Index(None, "object_key", "id"),
)
# The unfinished commands (pending, running, dead) — a small part of the table,
# applied ones being the bulk — in id order per sink: claims walk it and stop at
# the batch size, backlog metrics count from it.  Queries name the predicate
# literally (``outbox.UNFINISHED``) so that SQLite can prove the partial index applies.
UNFINISHED_SQL = "outbox.state IN ('pending', 'running', 'dead')"
Index(
    "ix_outbox_unfinished",
    outbox.c.target,
    outbox.c.id,
    sqlite_where=text(UNFINISHED_SQL),
    postgresql_where=text(UNFINISHED_SQL),
)
# The unfinished commands by object: a claim's "no earlier command of this object is
# unfinished" is one probe here per candidate (migration 0013 tells why).  The same
# rows as ix_outbox_unfinished, spelt as "not finished" on purpose: a query that says
# so can use this index and not that one, whose (target, id) would be read whole per
# candidate when stale statistics make both look empty.
NOT_FINISHED_SQL = "outbox.state NOT IN ('done', 'discarded', 'superseded')"
Index(
    "ix_outbox_unfinished_object",
    outbox.c.object_key,
    outbox.c.id,
    sqlite_where=text(NOT_FINISHED_SQL),
    postgresql_where=text(NOT_FINISHED_SQL),
)
# The finished commands (applied, discarded, superseded) by when they finished:
# retention deletes them oldest first once they are past their period.
FINISHED_SQL = "outbox.state IN ('done', 'discarded', 'superseded')"
Index(
    "ix_outbox_finished",
    outbox.c.done_at,
    sqlite_where=text(FINISHED_SQL),
    postgresql_where=text(FINISHED_SQL),
)

# One business object's id in one system; rows sharing ``link`` are the same object.
bindings = Table(
    "bindings",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("link", String(64), nullable=False, index=True),
    Column("system", String(50), nullable=False),
    Column("entity", String(100), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("fingerprint", String(64)),  # of what syncd last wrote there (echo detection)
    Column("remote_id", String(255)),  # the id the system itself gave, when not external_id
    Column("version_seen", String(255)),  # the version syncd's own last write produced
    Column("facts", Text),  # JSON: what a flow remembers of the object (see flows)
    Column("written_at", Float),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("external_id", "system", "entity"),
)

# Where each source stream has read up to, fenced by the epoch of its lease.
cursors = Table(
    "cursors",
    metadata,
    Column("stream", String(100), primary_key=True),
    Column("value", Text),
    Column("epoch", BigInteger, nullable=False, server_default="0"),
    Column("events_total", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", Float),
    Column("last_attempt_at", Float),
    Column("last_success_at", Float),
    Column("last_error", Text),
)

# What could not be processed, kept with its error until retried or discarded.
dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # command | event | record
    Column("origin", String(100), nullable=False),  # sink, flow or stream name
    Column("ref_id", BigInteger),  # outbox.id or inbox.id
    Column("subject", String(512), nullable=False),  # object key, or file:line for records
    Column("payload", Text),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("state", String(16), nullable=False, server_default="open"),
    Column("created_at", Float, nullable=False),
    Column("resolved_at", Float),
    Index(None, "state", "id"),
)

# Changes the owner rules could not decide; an operator resolves them.
conflicts = Table(
    "conflicts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("flow", String(100), nullable=False),
    Column("entity", String(100), nullable=False),
    Column("object_key", String(512), nullable=False),
    Column("reason", Text, nullable=False),
    Column("details", Text, nullable=False),
    Column("state", String(16), nullable=False, server_default="open"),
    Column("resolution", String(32)),
    Column("created_at", Float, nullable=False),
    Column("resolved_at", Float),
    Index(None, "state", "id"),
)

# Who runs a stream; ``epoch`` grows on every change of owner (a fencing token).
leases = Table(
    "leases",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("epoch", BigInteger, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("acquired_at", Float, nullable=False),
)

# -- identity: one customer across 1C, the CRM and the stores (syncd/identity) -------------

# A customer. Its "golden record" is derived: the best name (``display_name`` and
# where it came from) here, every phone, e-mail and card in identity_keys with its source.
identities = Table(
    "identities",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=False),  # from identity_seq
    Column("name", String(255), nullable=False, server_default=""),  # normalised, for scoring
    Column("display_name", String(255), nullable=False, server_default=""),
    Column("name_source", String(100), nullable=False, server_default=""),
    Column("merged_into", BigInteger),  # set when folded into another customer
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# Blocking keys: "p:+79123456789", "e:anna@example.ru", "c:0012345678" -> customer.
identity_keys = Table(
    "identity_keys",
    metadata,
    Column("key", String(320), primary_key=True),
    Column("identity_id", BigInteger, nullable=False, index=True),
    Column("source", String(100), nullable=False, server_default=""),  # who told us this key
    sqlite_with_rowid=False,  # one B-tree, not a table and an index: inserts cost half
)

# The records that shaped a customer (1C partners, CRM customers, receipts that made it,
# brought a key or a name, or merged two), with why (``syncd customers explain``).
identity_records = Table(
    "identity_records",
    metadata,
    Column("source_id", String(255), primary_key=True),
    Column("source", String(100), primary_key=True),
    Column("identity_id", BigInteger, nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("person", Text),  # what identifies the person, as compared (the model's records)
)

# The model's blocks (customers.yaml ``matching.method: model``): a key that people who may
# be one share (a card or a phone one keystroke off, name + birth date, surname + street +
# house...) -> each customer holding it; a key with more than a block's worth is full
# (identity_id 0 marks it) and finds nobody.  Records keep what identifies the person
# (``identity_records.person``) so that candidates are compared field by field.
identity_blocks = Table(
    "identity_blocks",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("identity_id", BigInteger, primary_key=True),
    sqlite_with_rowid=False,
)

# The Fellegi-Sunter model the store's customers are matched with (``syncd customers
# train`` re-estimates it from the store's own records; none: the shipped one).
identity_model = Table(
    "identity_model",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("body", Text, nullable=False),
    Column("trained_at", Float, nullable=False),
)

# Two customers an operator split apart (``syncd customers split``): never merged again.
identity_apart = Table(
    "identity_apart",
    metadata,
    Column("identity_id", BigInteger, primary_key=True),
    Column("other_id", BigInteger, primary_key=True),
    Column("created_at", Float, nullable=False),
)

identity_seq = Table(
    "identity_seq",
    metadata,
    Column("name", String(20), primary_key=True),
    Column("next_id", BigInteger, nullable=False),
)
