"""On PostgreSQL, concurrent claimers skip each other's locked rows."""

from __future__ import annotations

import threading

from syncd.model import Command
from syncd.store import Store, outbox


def test_two_claimers_get_disjoint_commands(pg_url):
    store = Store.open(pg_url)
    store.truncate_all()
    with store.begin() as conn:
        outbox.enqueue(
            conn,
            [Command("crm", "order", f"K{i}", "upsert", {"i": i}, f"k{i}") for i in range(40)],
        )
    got: dict[str, list[int]] = {}
    barrier = threading.Barrier(2)

    def claimer(name: str) -> None:
        barrier.wait()
        with store.begin() as conn:
            claims = outbox.claim(conn, target="crm", owner=name, limit=25, claim_ttl=60)
            got[name] = [c.command.id for c in claims]

    threads = [threading.Thread(target=claimer, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not set(got["a"]) & set(got["b"])
    assert len(got["a"]) + len(got["b"]) == 40
    store.dispose()


def test_a_claimer_skips_rows_another_holds_locked_instead_of_waiting(pg_url):
    """The first claimer's transaction is still open: the second takes the next command
    at once (``SKIP LOCKED``), not after the first commits (its lock_timeout would end it)."""
    store = Store.open(pg_url)
    store.truncate_all()
    commands = [Command("crm", "order", k, "upsert", {}, f"k{k}") for k in ("A", "B")]
    with store.begin() as conn:
        outbox.enqueue(conn, commands)
    try:
        with store.begin() as first:
            (a,) = outbox.claim(first, target="crm", owner="one", limit=1, claim_ttl=60)
            with store.begin() as second:
                second.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
                taken = outbox.claim(second, target="crm", owner="two", limit=10, claim_ttl=60)
        assert (a.command.key, [c.command.key for c in taken]) == ("A", ["B"])
    finally:
        store.dispose()


def test_the_oldest_due_command_is_claimed_first_wherever_its_row_lies(pg_url):
    """A retried command's row was rewritten (PostgreSQL puts the new version at the end
    of the table); the claim still takes commands in the order they were queued."""
    store = Store.open(pg_url)
    store.truncate_all()
    with store.begin() as conn:
        outbox.enqueue(conn, [Command("crm", "order", k, "upsert", {}, f"k{k}") for k in "ABC"])
        (a,) = outbox.claim(conn, target="crm", owner="w", limit=1, claim_ttl=60)
        outbox.retry_later(conn, a.command.id, a.token, "busy", next_attempt_at=0.0)
    try:
        with store.begin() as conn:
            first = outbox.claim(conn, target="crm", owner="w", limit=1, claim_ttl=60)
        assert [c.command.key for c in first] == ["A"]
    finally:
        store.dispose()
