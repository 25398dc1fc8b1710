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
