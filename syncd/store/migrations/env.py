"""Alembic environment: runs on the connection the caller hands over.

``syncd db upgrade`` (and the daemon at start) call ``Store.upgrade()``,
which passes its own connection in ``config.attributes["connection"]``.
"""

from alembic import context

from syncd.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - we never run the alembic CLI directly
    raise RuntimeError("run migrations with `syncd db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
