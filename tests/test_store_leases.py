"""Leases: one owner at a time, takeover after expiry, stale owners fenced out."""

from __future__ import annotations

import time

import pytest

from syncd.model import Event
from syncd.store import cursors, inbox, leases
from syncd.store.leases import LeaseLost


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
