"""Keeping this instance's leases: take free ones, renew held ones, give them back.

The main loop calls ``refresh`` every iteration; a lease this instance holds
is renewed, one that is free or expired is taken, one held by another live
instance is left alone.  ``held(name)`` tells the loop whether it may run that
stream now; the epoch inside fences the writes it makes.
"""

from __future__ import annotations

import logging

from syncd.store import Store, leases
from syncd.store.leases import Lease

log = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(self, store: Store, owner: str, metrics=None) -> None:  # noqa: ANN001
        self.store = store
        self.owner = owner
        self.metrics = metrics
        self._held: dict[str, Lease] = {}

    def refresh(self, names: list[str], ttl: float) -> None:
        for name in names:
            try:
                with self.store.begin() as conn:
                    mine = self._held.get(name)
                    lease = leases.renew(conn, mine, ttl) if mine else None
                    if lease is None:
                        lease = leases.acquire(conn, name, self.owner, ttl)
            except Exception as exc:  # the store is down: hold nothing we cannot prove
                log.warning("cannot refresh lease %s: %s", name, type(exc).__name__)
                lease = None
            self._set(name, lease)
        for name in set(self._held) - set(names):
            self.release(name)

    def _set(self, name: str, lease: Lease | None) -> None:
        before = self._held.get(name)
        if lease is None:
            self._held.pop(name, None)
        else:
            self._held[name] = lease
        if (before is None) != (lease is None) or (
            before and lease and before.epoch != lease.epoch
        ):
            if lease is not None:
                log.info("took lease %s (epoch %d)", name, lease.epoch)
            else:
                log.warning("lease %s is held by another instance now", name)
        if self.metrics is not None and not name.startswith("instance:"):
            self.metrics.lease_held.labels(name.removeprefix("source:")).set(1 if lease else 0)

    def forget(self, name: str) -> None:
        """Stop believing we hold ``name`` (a fenced write said we do not)."""
        self._set(name, None)

    def held(self, name: str) -> Lease | None:
        return self._held.get(name)

    def release(self, name: str) -> None:
        lease = self._held.pop(name, None)
        if lease is None:
            return
        try:
            with self.store.begin() as conn:
                leases.release(conn, lease)
        except Exception as exc:
            log.warning("cannot release lease %s: %s", name, type(exc).__name__)
        if self.metrics is not None and not name.startswith("instance:"):
            self.metrics.lease_held.labels(name.removeprefix("source:")).set(0)

    def release_all(self) -> None:
        for name in list(self._held):
            self.release(name)
