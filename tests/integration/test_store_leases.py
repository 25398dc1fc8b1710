"""Leases: one owner at a time, takeover after expiry or once the holder is gone, stale
owners fenced out."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from syncd.config import EngineSettings
from syncd.engine.leasing import LeaseKeeper, heartbeat_ttl
from syncd.model import Event
from syncd.store import cursors, inbox, leases
from syncd.store.leases import LeaseLost
from syncd.store.schema import leases as leases_table


def test_only_one_owner_holds_a_lease(store):
    with store.begin() as conn:
        a = leases.acquire(conn, "source:orders", "A", ttl=30)
        b = leases.acquire(conn, "source:orders", "B", ttl=30)
    assert a is not None and a.epoch == 1
    assert b is None


def test_an_expired_lease_is_taken_over_with_a_higher_epoch(store):
    now = time.time()
    with store.begin() as conn:
        a = leases.acquire(conn, "source:orders", "A", ttl=1, now=now)
        b = leases.acquire(conn, "source:orders", "B", ttl=30, now=now + 2)
    assert b is not None and b.epoch == a.epoch + 1
    with store.begin() as conn:
        assert leases.renew(conn, a, ttl=30) is None  # A lost it


def test_a_stale_owner_cannot_write_the_cursor(store):
    now = time.time()
    with store.begin() as conn:
        a = leases.acquire(conn, "source:orders", "A", ttl=1, now=now - 10)
    with store.begin() as conn:
        b = leases.acquire(conn, "source:orders", "B", ttl=30)
        leases.fence(conn, b)
        cursors.save(conn, b, {"page": 7}, 0)
    with pytest.raises(LeaseLost), store.begin() as conn:
        leases.fence(conn, a)
        inbox.add(conn, [Event("erp", "order", "X", "1", {})], "orders")
    with pytest.raises(LeaseLost), store.begin() as conn:
        cursors.save(conn, a, {"page": 3}, 0)  # the epoch check alone also refuses it
    with store.read() as conn:
        state = cursors.get(conn, "orders")
        assert state.cursor == {"page": 7} and state.epoch == b.epoch
        assert inbox.count_pending(conn) == 0  # the fenced transaction rolled back


def test_the_same_owner_s_older_epoch_is_fenced_out(store):
    """An instance that lost its lease and took it again holds a new epoch: a write
    still carrying the old one (a worker started before the gap) is refused."""
    now = time.time()
    with store.begin() as conn:
        first = leases.acquire(conn, "source:orders", "A", ttl=1, now=now - 10)
    with store.begin() as conn:
        second = leases.acquire(conn, "source:orders", "A", ttl=30, now=now)
    assert second is not None and second.epoch == first.epoch + 1
    with pytest.raises(LeaseLost), store.begin() as conn:
        leases.fence(conn, first, now=now)
    with store.begin() as conn:
        leases.fence(conn, second, now=now)  # the new epoch writes


def test_an_expired_lease_fences_out_its_holder_even_with_nobody_after_it(store):
    """Expired is not held: nobody has taken the lease yet, but its old holder may no
    longer write (another instance may take it at any moment)."""
    now = time.time()
    with store.begin() as conn:
        lapsed = leases.acquire(conn, "source:orders", "A", ttl=5, now=now - 10)
    with pytest.raises(LeaseLost), store.begin() as conn:
        leases.fence(conn, lapsed, now=now)
    with store.begin() as conn:
        leases.fence(conn, lapsed, now=now - 8)  # while it was held, it wrote


def test_released_lease_is_free_and_the_epoch_still_grows(store):
    with store.begin() as conn:
        a = leases.acquire(conn, "inbox", "A", ttl=30)
        assert leases.release(conn, a)
        b = leases.acquire(conn, "inbox", "B", ttl=30)
    assert b is not None and b.epoch == a.epoch + 1


def test_renewal_keeps_the_epoch(store):
    with store.begin() as conn:
        a = leases.acquire(conn, "inbox", "A", ttl=30)
        renewed = leases.renew(conn, a, ttl=30)
        again = leases.acquire(conn, "inbox", "A", ttl=30)
    assert renewed.epoch == a.epoch == again.epoch


def test_a_dead_instances_stream_lease_is_taken_at_once_and_its_late_write_refused(store):
    # A took the stream for 30 s, but its instance lease (renewed every loop) lapsed:
    # A is gone, and B need not wait out the stream lease's own TTL
    now = time.time()
    with store.begin() as conn:
        leases.acquire(conn, "instance:A", "A", ttl=6, now=now - 10)
        a = leases.acquire(conn, "source:orders", "A", ttl=30, now=now - 5)
        leases.acquire(conn, "instance:B", "B", ttl=6, now=now)
    with store.begin() as conn:
        b = leases.acquire(conn, "source:orders", "B", ttl=30, now=now)
    assert b is not None and b.epoch == a.epoch + 1 and b.taken_from == "A"
    with pytest.raises(LeaseLost), store.begin() as conn:
        leases.fence(conn, a)  # A was only paused after all: its write is refused
        cursors.save(conn, a, {"page": 3}, 0)
    with store.begin() as conn:
        assert leases.renew(conn, a, ttl=30) is None
        assert leases.fence(conn, b) is None


def test_a_stream_lease_of_a_cleanly_stopped_instance_is_free_at_once(store):
    with store.begin() as conn:
        alive = leases.acquire(conn, "instance:A", "A", ttl=6)
        a = leases.acquire(conn, "inbox", "A", ttl=30)
        assert leases.release(conn, alive)  # A stopped, but its inbox lease was not given back
        b = leases.acquire(conn, "inbox", "B", ttl=30)
    assert b is not None and b.epoch == a.epoch + 1


def test_a_live_instance_keeps_its_stream_leases(store):
    with store.begin() as conn:
        leases.acquire(conn, "instance:A", "A", ttl=6)
        leases.acquire(conn, "source:orders", "A", ttl=30)
        assert leases.acquire(conn, "source:orders", "B", ttl=30) is None


def test_a_holder_without_an_instance_lease_keeps_it_until_it_expires(store):
    # `syncd backfill` holds its stream's lease with no instance lease beside it
    now = time.time()
    with store.begin() as conn:
        leases.acquire(conn, "source:backfill_erp", "backfill-host", ttl=3600, now=now - 10)
        assert leases.acquire(conn, "source:backfill_erp", "B", ttl=30, now=now) is None
        # and nobody takes an instance lease for its owner being "gone"
        leases.acquire(conn, "instance:A", "A", ttl=1, now=now - 10)
        assert leases.acquire(conn, "instance:A", "B", ttl=30, now=now - 9.5) is None


def test_the_keeper_renews_its_instance_lease_first_and_on_the_short_ttl(store):
    keeper = LeaseKeeper(store, "A")
    before = time.time()
    keeper.refresh(["source:orders", "inbox"], ttl=30, heartbeat=6)
    with store.read() as conn:
        held = {lease.name: lease.expires_at - before for lease in leases.holders(conn)}
    assert set(held) == {"instance:A", "source:orders", "inbox"}
    assert held["instance:A"] < 7 and held["source:orders"] > 29 and held["inbox"] > 29


def test_the_instance_ttl_spans_three_ticks_and_never_outlasts_a_stream_lease():
    assert heartbeat_ttl(EngineSettings()) == 6.0
    assert heartbeat_ttl(EngineSettings(lease_ttl_seconds=2)) == 2.0
    assert heartbeat_ttl(EngineSettings(tick_seconds=5)) == 15.0


def test_a_daemon_restarted_on_the_same_host_takes_its_dead_predecessors_leases_at_once(store):
    host = socket.gethostname()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a daemon that was killed: its process no longer runs
    dead, alive = f"{host}:{gone.pid}:aa11bb", f"{host}:{os.getpid()}:cc22dd"
    with store.begin() as conn:  # each holds a stream; both instance leases look fresh
        for owner, stream in ((dead, "source:a"), (alive, "source:b")):
            leases.acquire(conn, leases.instance_lease(owner), owner, ttl=600)
            leases.acquire(conn, stream, owner, ttl=600)
    keeper = LeaseKeeper(store, f"{host}:{os.getpid()}:ee33ff")
    keeper.refresh(["source:a", "source:b"], ttl=600, heartbeat=600)
    assert keeper.held("source:a") is not None  # its process is gone: taken at once
    assert keeper.held("source:a").epoch == 2
    assert keeper.held("source:b") is None  # a process that runs keeps its lease


def test_a_busy_loop_renews_held_leases_only_when_a_third_of_their_ttl_has_passed(store):
    keeper = LeaseKeeper(store, "A")
    keeper.refresh(["source:orders", "inbox"], ttl=600, heartbeat=600)
    with store.read() as conn:
        first = {lease.name: lease.expires_at for lease in leases.holders(conn)}
    for _ in range(5):  # the loop's next iterations, well within a third of the TTL
        keeper.refresh(["source:orders", "inbox"], ttl=600, heartbeat=600)
    with store.read() as conn:
        assert {lease.name: lease.expires_at for lease in leases.holders(conn)} == first
    # a lease a fenced write proved lost is looked at again on the next refresh
    with store.begin() as conn:
        conn.execute(leases_table.delete().where(leases_table.c.name == "inbox"))
    keeper.forget("inbox")
    keeper.refresh(["source:orders", "inbox"], ttl=600, heartbeat=600)
    assert keeper.held("inbox") is not None
    with store.read() as conn:
        assert {lease.name for lease in leases.holders(conn)} == set(first)


def test_a_lease_says_until_when_it_is_held_whether_taken_kept_or_renewed(store):
    with store.begin() as conn:
        first = leases.acquire(conn, "s", "a", ttl=30, now=1000.0)
        kept = leases.acquire(conn, "s", "a", ttl=30, now=1010.0)
        renewed = leases.renew(conn, kept, ttl=60, now=1020.0)
        taken = leases.acquire(conn, "s", "b", ttl=30, now=2000.0)  # after expiry
    assert (first.expires_at, kept.expires_at) == (1030.0, 1040.0)
    assert renewed == leases.Lease("s", "a", first.epoch, 1080.0)
    assert taken == leases.Lease("s", "b", first.epoch + 1, 2030.0)
    assert taken.taken_from is None  # it expired: its holder was not known gone


def test_a_lease_is_renewed_only_by_its_owner_at_its_epoch(store):
    with store.begin() as conn:
        held = leases.acquire(conn, "s", "a", ttl=30, now=1000.0)
        assert leases.renew(conn, leases.Lease("s", "b", held.epoch, 0), ttl=30, now=1001) is None
        assert leases.renew(conn, leases.Lease("s", "a", held.epoch - 1, 0), 30, 1001) is None
        (row,) = [h for h in leases.holders(conn) if h.name == "s"]
    assert row.expires_at == 1030.0  # untouched by either


def test_ending_an_instance_lapses_its_lease_once_and_only_its_own(store):
    with store.begin() as conn:
        leases.acquire(conn, leases.instance_lease("host-1"), "host-1", ttl=30, now=1000.0)
        leases.acquire(conn, leases.instance_lease("host-12"), "host-12", ttl=30, now=1000.0)
        leases.acquire(conn, leases.instance_lease("other"), "other", ttl=30, now=1000.0)
        assert sorted(leases.live_instances(conn, "host-", now=1010.0)) == ["host-1", "host-12"]
        assert leases.end_instance(conn, "host-1", now=1010.0) is True
        assert leases.end_instance(conn, "host-1", now=1011.0) is False  # already lapsed
        assert leases.live_instances(conn, "host-", now=1012.0) == ["host-12"]
        ended = {h.name: h.expires_at for h in leases.holders(conn)}
    assert ended[leases.instance_lease("host-1")] == 1009.0


def test_a_lost_lease_is_named_when_a_write_is_fenced_out(store):
    with store.begin() as conn:
        held = leases.acquire(conn, "stream-x", "a", ttl=30, now=1000.0)
        with pytest.raises(LeaseLost, match=r"lease 'stream-x' epoch \d+ is no longer held"):
            leases.fence(conn, held, now=2000.0)
