"""Checks of the state store: it answers, and its schema is at this syncd's migration head.

Nothing is created or changed: an SQLite file that does not exist yet is not
opened (opening would create it), only its folder is looked at.

    store_reachable(ctx), store_migrated(ctx)
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

from syncd.doctor.context import DoctorContext
from syncd.doctor.result import Check, Shared
from syncd.store import Store
from syncd.store.db import MIGRATIONS

REACHABLE, MIGRATED = "store reachable", "store migrated"


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip().splitlines()
    return text[0] if text else type(cause).__name__


class StoreProbe:
    """The store, opened once for both checks (never when its SQLite file is missing)."""

    def __init__(self, ctx: DoctorContext) -> None:
        self.url = ctx.settings.database_url
        self.file = _sqlite_file(self.url)
        self.pool_size = ctx.settings.store.pool_size
        self.store: Shared[Store | None] = Shared(self._open)

    def missing_file(self) -> bool:
        return self.file is not None and not self.file.exists()

    def _open(self) -> Store | None:
        if self.missing_file():
            return None
        store = Store.open(self.url, pool_size=self.pool_size)
        try:
            store.ping()
        except Exception:
            store.dispose()
            raise
        return store

    def close(self) -> None:
        try:
            store = self.store.get() if self.store.done else None
        except Exception:  # noqa: BLE001 - nothing to close
            store = None
        if store is not None:
            store.dispose()

    def describe(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)


def store_reachable(ctx: DoctorContext, probe: StoreProbe) -> Check:
    if probe.missing_file():
        folder = probe.file.parent  # type: ignore[union-attr]
        existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
        if existing is not None and os.access(existing, os.W_OK):
            return Check.passed(
                REACHABLE, f"{probe.file} does not exist yet; syncd can create it there"
            )
        return Check.failed(
            REACHABLE,
            f"cannot create {probe.file}: {existing or folder} is not writable by this user",
            "point state_dir or store.url at a folder syncd's user may write "
            "(systemd: StateDirectory=syncd)",
        )
    error = probe.store.error()
    if error is not None:
        return Check.failed(
            REACHABLE,
            f"{probe.describe()}: {_first_line(error)}",
            "check store.url (SYNCD_DB_URL): host, port, database, user and password, "
            "and that the database server runs and accepts this host",
        )
    return Check.passed(REACHABLE, probe.describe())


def store_migrated(ctx: DoctorContext, probe: StoreProbe) -> Check:
    upgrade = ctx.command("db", "upgrade")
    if probe.missing_file():
        return Check.failed(
            MIGRATED, "the store has no tables yet", f"run {upgrade} (creates the store)"
        )
    try:
        store = probe.store.get()
    except Exception:  # noqa: BLE001 - `store reachable` says why
        return Check.skipped_because(MIGRATED, "not checked: the store did not answer")
    assert store is not None
    current, head = store.current_revision(), store.head_revision()
    if current == head:
        return Check.passed(MIGRATED, f"at revision {head} (this syncd's head)")
    if current is not None and not _known(current):
        return Check.failed(
            MIGRATED,
            f"at revision {current}, which this syncd does not know (its head is {head}): "
            "a newer syncd migrated it",
            "run the syncd version that migrated this store (or newer)",
        )
    return Check.failed(
        MIGRATED,
        f"at revision {current or 'none (no tables)'}, this syncd needs {head}",
        f"run {upgrade}",
    )


def _known(revision: str) -> bool:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        return ScriptDirectory.from_config(config).get_revision(revision) is not None
    except CommandError:
        return False
