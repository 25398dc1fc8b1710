"""Leases: which instance runs a stream, with an epoch that fences stale owners.

Taking a lease is one conditional UPDATE (free, expired, or already ours), so
two instances can never both win.  Every change of owner increments the
epoch.  Writes made on behalf of a stream call ``fence()`` inside their own
transaction: it locks the lease row and fails unless the caller still owns
the lease at the epoch it was granted and the lease has not expired — so an
owner paused past its expiry (GC, SIGSTOP, a slow network) cannot write after
another instance took over.  No session advisory locks: they break behind
transaction poolers such as PgBouncer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, and_, select, update

from syncd.store.schema import leases
from syncd.store.sql import insert_ignoring_duplicates


class LeaseLost(Exception):
    """The caller no longer holds the lease it wrote under; the write was rolled back."""


@dataclass(frozen=True)
class Lease:
    name: str
    owner: str
    epoch: int
    expires_at: float


def acquire(
    conn: Connection, name: str, owner: str, ttl: float, now: float | None = None
) -> Lease | None:
    """Take or renew ``name`` for ``owner``; None when another owner holds it."""
    now = now or time.time()
    conn.execute(
        insert_ignoring_duplicates(conn, leases, ["name"]),
        {"name": name, "owner": owner, "epoch": 1, "expires_at": now + ttl, "acquired_at": now},
    )
    row = conn.execute(select(leases).where(leases.c.name == name).with_for_update()).one()
    if row.owner == owner and row.expires_at >= now:
        conn.execute(update(leases).where(leases.c.name == name).values(expires_at=now + ttl))
        return Lease(name, owner, row.epoch, now + ttl)
    taken = conn.execute(
        update(leases)
        .where(leases.c.name == name, leases.c.epoch == row.epoch, leases.c.expires_at < now)
        .values(owner=owner, epoch=row.epoch + 1, expires_at=now + ttl, acquired_at=now)
    ).rowcount
    if taken != 1:
        return None
    return Lease(name, owner, row.epoch + 1, now + ttl)


def renew(conn: Connection, lease: Lease, ttl: float, now: float | None = None) -> Lease | None:
    """Extend a held lease; None when it was lost (expired and taken over)."""
    now = now or time.time()
    renewed = conn.execute(
        update(leases)
        .where(
            leases.c.name == lease.name,
            leases.c.owner == lease.owner,
            leases.c.epoch == lease.epoch,
        )
        .values(expires_at=now + ttl)
    ).rowcount
    return Lease(lease.name, lease.owner, lease.epoch, now + ttl) if renewed == 1 else None


def fence(conn: Connection, lease: Lease, now: float | None = None) -> None:
    """Raise LeaseLost unless ``lease`` is still held; locks the lease row until commit."""
    now = now or time.time()
    held = conn.execute(
        update(leases)
        .where(
            and_(
                leases.c.name == lease.name,
                leases.c.owner == lease.owner,
                leases.c.epoch == lease.epoch,
                leases.c.expires_at >= now,
            )
        )
        .values(owner=lease.owner)
    ).rowcount
    if held != 1:
        raise LeaseLost(
            f"lease {lease.name!r} epoch {lease.epoch} is no longer held by this instance"
        )


def release(conn: Connection, lease: Lease) -> bool:
    """Give a lease up at once (clean shutdown) so another instance need not wait for expiry.

    The row stays, expired, so the next owner's epoch is still higher.
    """
    return (
        conn.execute(
            update(leases)
            .where(
                leases.c.name == lease.name,
                leases.c.owner == lease.owner,
                leases.c.epoch == lease.epoch,
            )
            .values(expires_at=0.0)
        ).rowcount
        == 1
    )


def holders(conn: Connection) -> list[Lease]:
    rows = conn.execute(select(leases).order_by(leases.c.name))
    return [Lease(r.name, r.owner, r.epoch, r.expires_at) for r in rows]
