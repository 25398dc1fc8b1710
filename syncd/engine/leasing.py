"""Keeping this instance's leases: take free ones, renew held ones, give them back.

The main loop calls ``refresh`` every iteration; a lease this instance holds
is renewed three times per TTL, one that is free or expired is taken (tried
twice a second), one held by another live instance is left alone.
``held(name)`` tells the loop whether it may run that stream now; the epoch
inside fences the writes it makes.

The instance's own lease (``instance:<owner>``) is refreshed first and with a
short TTL (``heartbeat_ttl``): it is how the others learn that this daemon is
gone, and they take its streams as soon as it lapses instead of waiting for
each stream lease's own, longer TTL.

A daemon restarted on the same host (systemd's ``Restart=``, an operator)
need not wait even that long for the one it replaces: an instance id names
its host and process (``host:pid:…``), and when a lease it wants is held by
an instance of this host whose process no longer runs, that instance is
proven gone — its instance lease is ended, and its leases are taken at once.
A process id the system gave again to another program only makes syncd wait
for the TTL, as without this check.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import TYPE_CHECKING

from syncd.store import Store, leases
from syncd.store.leases import INSTANCE_PREFIX, Lease

if TYPE_CHECKING:
    from syncd.config import EngineSettings

log = logging.getLogger(__name__)

HEARTBEATS_PER_TTL = 3  # a held lease is renewed 3 times per TTL (a TTL spans >= 3 ticks)
TAKE_EVERY_SECONDS = 0.5  # how often a lease held elsewhere (or free) is tried again


def heartbeat_ttl(engine: EngineSettings) -> float:
    """The TTL of this instance's own lease.

    ``instance_ttl_seconds``, but never longer than a stream lease (it would
    only slow a takeover down) and never shorter than three ticks (an idle
    main loop renews once per tick, and a TTL it cannot keep up with would
    hand this instance's streams to another while it is healthy).
    """
    floor = HEARTBEATS_PER_TTL * engine.tick_seconds
    return min(engine.lease_ttl_seconds, max(engine.instance_ttl_seconds, floor))


class LeaseKeeper:
    def __init__(self, store: Store, owner: str, metrics=None) -> None:  # noqa: ANN001
        self.store = store
        self.owner = owner
        self.metrics = metrics
        self.instance_name = leases.instance_lease(owner)
        self._held: dict[str, Lease] = {}
        self._neighbours_checked = 0.0
        self._due: dict[str, float] = {}  # monotonic time when a lease is next renewed or tried

    def refresh(self, streams: list[str], ttl: float, heartbeat: float) -> None:
        """Renew or take this instance's lease (TTL ``heartbeat``), then ``streams`` (``ttl``).

        Called every loop iteration, it writes only when something is due: a held
        lease once a third of its TTL has passed, a lease held elsewhere or free
        every ``TAKE_EVERY_SECONDS`` — all of them in one transaction.  A busy
        loop iterates many times a second; renewing every lease each time cost
        a write transaction (and an fsync) per lease per iteration.
        """
        names = [self.instance_name, *(n for n in streams if n != self.instance_name)]
        if any(n not in self._held for n in names if n != self.instance_name):
            self._end_dead_neighbours()
        now = time.monotonic()
        due = [n for n in names if now >= self._due.get(n, 0.0)]
        if due:
            self._refresh_due(due, ttl, heartbeat, now)
        for name in set(self._held) - set(names):
            self.release(name)

    def _refresh_due(self, due: list[str], ttl: float, heartbeat: float, now: float) -> None:
        ttls = {name: heartbeat if name == self.instance_name else ttl for name in due}
        got: dict[str, Lease | None] = {}
        try:
            with self.store.begin() as conn:
                for name, lease_ttl in ttls.items():
                    mine = self._held.get(name)
                    lease = leases.renew(conn, mine, lease_ttl) if mine else None
                    if lease is None:
                        lease = leases.acquire(conn, name, self.owner, lease_ttl)
                    got[name] = lease
        except Exception as exc:  # the store is down: hold nothing we cannot prove
            log.warning("cannot refresh leases %s: %s", ", ".join(due), type(exc).__name__)
            got = dict.fromkeys(due)
        for name, lease in got.items():
            renew_in = ttls[name] / HEARTBEATS_PER_TTL
            self._due[name] = now + (renew_in if lease else min(TAKE_EVERY_SECONDS, renew_in))
            self._set(name, lease)

    def _end_dead_neighbours(self) -> None:
        """End the instance leases of this host's daemons whose process is gone (at most
        once a second: it costs a query)."""
        now = time.monotonic()
        if now - self._neighbours_checked < 1.0:
            return
        self._neighbours_checked = now
        host = socket.gethostname()
        try:
            with self.store.begin() as conn:
                for owner in leases.live_instances(conn, f"{host}:"):
                    gone = owner != self.owner and not _process_runs(owner, host)
                    if gone and leases.end_instance(conn, owner):
                        log.warning(
                            "instance %s of this host is gone (its process does not run): "
                            "its leases are taken now",
                            owner,
                        )
        except Exception as exc:  # the store is down: refresh says so
            log.debug("cannot look for gone instances: %s", type(exc).__name__)

    def _set(self, name: str, lease: Lease | None) -> None:
        before = self._held.get(name)
        if lease is None:
            self._held.pop(name, None)
        else:
            self._held[name] = lease
        if (before is None) != (lease is None) or (
            before and lease and before.epoch != lease.epoch
        ):
            if lease is not None and lease.taken_from:
                log.warning(
                    "took lease %s (epoch %d) from %s, whose instance lease lapsed",
                    name,
                    lease.epoch,
                    lease.taken_from,
                )
            elif lease is not None:
                log.info("took lease %s (epoch %d)", name, lease.epoch)
            else:
                log.warning("lease %s is held by another instance now", name)
        if self.metrics is not None and not name.startswith(INSTANCE_PREFIX):
            self.metrics.lease_held.labels(name.removeprefix("source:")).set(1 if lease else 0)

    def forget(self, name: str) -> None:
        """Stop believing we hold ``name`` (a fenced write said we do not)."""
        self._set(name, None)
        self._due.pop(name, None)  # and look again at the next refresh

    def held(self, name: str) -> Lease | None:
        return self._held.get(name)

    def release(self, name: str) -> None:
        self._due.pop(name, None)
        lease = self._held.pop(name, None)
        if lease is None:
            return
        try:
            with self.store.begin() as conn:
                leases.release(conn, lease)
        except Exception as exc:
            log.warning("cannot release lease %s: %s", name, type(exc).__name__)
        if self.metrics is not None and not name.startswith(INSTANCE_PREFIX):
            self.metrics.lease_held.labels(name.removeprefix("source:")).set(0)

    def release_all(self) -> None:
        for name in list(self._held):
            self.release(name)


def _process_runs(owner: str, host: str) -> bool:
    """Does the process an instance id of this host names still run?  (True when unsure.)"""
    parts = owner.split(":")
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return True  # a configured engine.instance_id: nothing to tell from it
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True
