"""Leases: which instance runs a stream, with an epoch that fences stale owners.

Taking a lease is one conditional UPDATE (free, expired, or already ours), so
two instances can never both win.  Every change of owner increments the
epoch.  Writes made on behalf of a stream call ``fence()`` inside their own
transaction: it locks the lease row and fails unless the caller still owns
the lease at the epoch it was granted and the lease has not expired — so an
owner paused past its expiry (GC, SIGSTOP, a slow network) cannot write after
another instance took over.  No session advisory locks: they break behind
transaction poolers such as PgBouncer.

A lease is also free, before its own expiry, once its holder is known to be
gone: every daemon holds ``instance:<owner>`` with a short TTL, renewed by its
main loop, and when that lease has lapsed or was released, the holder's other
leases are taken at once (a killed daemon's streams move within the instance
TTL, not the stream TTL).  Safety does not rest on that guess being right: a
takeover still bumps the epoch, so a holder that was only paused is fenced out.
A holder with no instance lease (``syncd backfill``) keeps its lease until it
expires.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import Connection, and_, bindparam, select, update

from syncd.errors import SyncdError
from syncd.store.schema import leases
from syncd.store.sql import insert_ignoring_duplicates


class LeaseLost(SyncdError):
    """The caller no longer holds the lease it wrote under; the write was rolled back."""


INSTANCE_PREFIX = "instance:"


@dataclass(frozen=True)
class Lease:
    name: str
    owner: str
    epoch: int
    expires_at: float
    # set when this grant took the lease from a holder whose instance lease had lapsed
    taken_from: str | None = field(default=None, compare=False)


def instance_lease(owner: str) -> str:
    """The name of the lease that says ``owner`` (a running daemon) is alive."""
    return f"{INSTANCE_PREFIX}{owner}"


def acquire(
    conn: Connection, name: str, owner: str, ttl: float, now: float | None = None
) -> Lease | None:
    """Take or renew ``name`` for ``owner``; None when another live owner holds it.

    Taken when it is free, expired, or its holder's instance lease has lapsed.
    """
    now = now or time.time()
    conn.execute(
        insert_ignoring_duplicates(conn, leases, ["name"]),
        {"name": name, "owner": owner, "epoch": 1, "expires_at": now + ttl, "acquired_at": now},
    )
    row = conn.execute(select(leases).where(leases.c.name == name).with_for_update()).one()
    if row.owner == owner and row.expires_at >= now:
        conn.execute(update(leases).where(leases.c.name == name).values(expires_at=now + ttl))
        return Lease(name, owner, row.epoch, now + ttl)
    holder_gone = row.expires_at >= now and holder_is_gone(conn, name, row.owner, now)
    if row.expires_at >= now and not holder_gone:
        return None
    # conditional on the epoch read: of two instances taking it at once, one wins
    taken = conn.execute(
        update(leases)
        .where(leases.c.name == name, leases.c.epoch == row.epoch, leases.c.owner == row.owner)
        .values(owner=owner, epoch=row.epoch + 1, expires_at=now + ttl, acquired_at=now)
    ).rowcount
    if taken != 1:
        return None
    return Lease(name, owner, row.epoch + 1, now + ttl, row.owner if holder_gone else None)


def holder_is_gone(conn: Connection, name: str, holder: str, now: float) -> bool:
    """True when ``holder``'s instance lease lapsed or was released (it stopped or died).

    An instance lease is never judged by itself, and a holder that never had
    one (a backfill run) is not judged at all: its lease runs to its expiry.
    """
    if name.startswith(INSTANCE_PREFIX):
        return False
    alive_until = conn.execute(
        select(leases.c.expires_at).where(leases.c.name == instance_lease(holder))
    ).scalar_one_or_none()
    return alive_until is not None and alive_until < now


def live_instances(conn: Connection, prefix: str, now: float | None = None) -> list[str]:
    """Owners whose instance lease is still running and whose id starts with ``prefix``."""
    now = now or time.time()
    rows = conn.execute(
        select(leases.c.name).where(
            leases.c.name.like(f"{INSTANCE_PREFIX}{prefix}%"), leases.c.expires_at >= now
        )
    )
    return [name.removeprefix(INSTANCE_PREFIX) for (name,) in rows]


def end_instance(conn: Connection, owner: str, now: float | None = None) -> bool:
    """Mark ``owner``'s instance lease lapsed: it is known to be gone, so the others take
    its leases at once (``holder_is_gone``).  The row stays; epochs still rise."""
    now = now or time.time()
    ended = conn.execute(
        update(leases)
        .where(leases.c.name == instance_lease(owner), leases.c.expires_at >= now)
        .values(expires_at=now - 1)
    ).rowcount
    return ended == 1


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


# built once: every planning batch and every source run fences its writes
_FENCE = (
    update(leases)
    .where(
        and_(
            leases.c.name == bindparam("f_name"),
            leases.c.owner == bindparam("f_owner"),
            leases.c.epoch == bindparam("f_epoch"),
            leases.c.expires_at >= bindparam("f_now"),
        )
    )
    .values(owner=bindparam("f_owner"))
)


def fence(conn: Connection, lease: Lease, now: float | None = None) -> None:
    """Raise LeaseLost unless ``lease`` is still held; locks the lease row until commit."""
    params = {"f_name": lease.name, "f_owner": lease.owner, "f_epoch": lease.epoch}
    held = conn.execute(_FENCE, {**params, "f_now": now or time.time()}).rowcount
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
    """Every lease row, held or lapsed, by name."""
    rows = conn.execute(select(leases).order_by(leases.c.name))
    return [Lease(r.name, r.owner, r.epoch, r.expires_at) for r in rows]
