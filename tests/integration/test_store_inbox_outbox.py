"""The inbox and outbox keep their promises on SQLite and PostgreSQL."""

from __future__ import annotations

import time

from sqlalchemy import select

from syncd.model import Command, Event
from syncd.store import bindings, inbox, outbox
from syncd.store.schema import inbox as inbox_table
from syncd.store.schema import outbox as outbox_table


def ev(key: str, version: str, **data) -> Event:
    return Event("erp", "order", key, version, data, changed_at=1000.0)


def cmd(key: str, n: int, target: str = "crm", **data) -> Command:
    return Command(target, "order", key, "upsert", data or {"n": n}, f"test:{key}:{n}")


def test_a_repeated_event_is_stored_once(store):
    with store.begin() as conn:
        assert inbox.add(conn, [ev("A", "1", x=1), ev("A", "2", x=2)], "s") == 2
        assert inbox.add(conn, [ev("A", "1", x=1), ev("B", "1")], "s") == 1
    with store.read() as conn:
        assert [e.key for e in inbox.pending(conn, 10)] == [
            "erp/order/A@1",
            "erp/order/A@2",
            "erp/order/B@1",
        ]


def test_newest_event_of_each_object_is_known(store):
    with store.begin() as conn:
        inbox.add(conn, [ev("A", "1"), ev("B", "1"), ev("A", "2")], "s")
        events = inbox.pending(conn, 10)
        newest = inbox.newest_ids(conn, events)
    a1, b1, a2 = events
    assert newest[("erp", "order", "A")] == a2.id
    assert newest[("erp", "order", "B")] == b1.id
    assert a1.id < a2.id


def test_replay_puts_processed_events_back(store):
    with store.begin() as conn:
        inbox.add(conn, [ev("A", "1"), ev("B", "1")], "s")
        first, second = inbox.pending(conn, 10)
        inbox.mark(conn, {first.id: ("done", "created"), second.id: ("done", "created")})
        assert inbox.count_pending(conn) == 0
        assert inbox.replay(conn) == 2
        assert inbox.count_pending(conn) == 2


def test_one_objects_commands_are_claimed_in_order_one_at_a_time(store):
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1), cmd("A", 2), cmd("B", 1)])
    with store.begin() as conn:
        first = outbox.claim(conn, target="crm", owner="w1", limit=10, claim_ttl=60)
    assert [(c.command.key, c.command.payload["n"]) for c in first] == [("A", 1), ("B", 1)]
    with store.begin() as conn:  # A's second waits while A's first runs
        assert outbox.claim(conn, target="crm", owner="w2", limit=10, claim_ttl=60) == []
        assert outbox.complete(conn, first[0].command.id, first[0].token)
    with store.begin() as conn:
        second = outbox.claim(conn, target="crm", owner="w2", limit=10, claim_ttl=60)
    assert [(c.command.key, c.command.payload["n"]) for c in second] == [("A", 2)]


def test_a_failing_object_does_not_hold_back_others(store):
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1), cmd("A", 2), cmd("B", 1), cmd("B", 2)])
        claims = outbox.claim(conn, target="crm", owner="w", limit=10, claim_ttl=60)
        a1, b1 = claims
        outbox.retry_later(conn, a1.command.id, a1.token, "timeout", time.time() + 3600)
        outbox.complete(conn, b1.command.id, b1.token)
    with store.begin() as conn:
        nxt = outbox.claim(conn, target="crm", owner="w", limit=10, claim_ttl=60)
    assert [(c.command.key, c.command.payload["n"]) for c in nxt] == [("B", 2)]


def test_a_dead_command_holds_back_its_objects_later_commands(store):
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1), cmd("A", 2)])
        (a1,) = outbox.claim(conn, target="crm", owner="w", limit=10, claim_ttl=60)
        outbox.park(conn, a1.command.id, a1.token, "refused")
    with store.begin() as conn:
        assert outbox.claim(conn, target="crm", owner="w", limit=10, claim_ttl=60) == []
        assert outbox.discard(conn, a1.command.id)
    with store.begin() as conn:
        (a2,) = outbox.claim(conn, target="crm", owner="w", limit=10, claim_ttl=60)
    assert a2.command.payload == {"n": 2}


def test_a_command_given_back_untried_is_due_at_once_with_its_attempts_unspent(store):
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1)])
        (a1,) = outbox.claim(conn, target="crm", owner="w", limit=10, claim_ttl=60)
        assert a1.command.attempts == 1 and a1.command.planned_at is not None
        assert outbox.give_back(conn, a1.command.id, a1.token)
        assert not outbox.give_back(conn, a1.command.id, a1.token)  # the claim is gone
    with store.begin() as conn:
        (again,) = outbox.claim(conn, target="crm", owner="w", limit=10, claim_ttl=60)
    assert again.command.attempts == 1  # the untried round did not count


def test_same_idempotency_key_is_queued_once(store):
    with store.begin() as conn:
        assert outbox.enqueue(conn, [cmd("A", 1)]) == 1
        assert outbox.enqueue(conn, [cmd("A", 1)]) == 0


def test_a_result_from_a_lost_claim_is_refused(store):
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1)])
        (old,) = outbox.claim(conn, target="crm", owner="w1", limit=1, claim_ttl=0.01)
    later = time.time() + 1
    with store.begin() as conn:
        (new,) = outbox.claim(conn, target="crm", owner="w2", limit=1, claim_ttl=60, now=later)
        assert new.command.id == old.command.id and new.command.attempts == 1
        assert new.command.interruptions == 1  # taken back, not failed by the target
        assert not outbox.complete(conn, old.command.id, old.token)
        assert outbox.complete(conn, new.command.id, new.token)
        state = conn.execute(select(outbox_table.c.state)).scalar_one()
    assert state == "done"


def test_release_gives_back_running_claims(store):
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1)])
        outbox.claim(conn, target="crm", owner="me", limit=1, claim_ttl=600)
        assert outbox.release(conn, "me") == 1
        assert len(outbox.claim(conn, target="crm", owner="other", limit=1, claim_ttl=60)) == 1


def test_bindings_link_ids_and_remember_fingerprints(store):
    with store.begin() as conn:
        link = bindings.record_write(
            conn, ("crm", "order", "G1"), "fp1", origin=("erp", "order", "G1"), remote_id="77"
        )
        crm = bindings.get(conn, "crm", "order", "G1")
        other = bindings.counterpart(conn, ("erp", "order", "G1"), "crm")
    assert crm.fingerprint == "fp1" and crm.remote_id == "77" and crm.link == link
    assert other.external_id == "G1" and other.system == "crm"


def test_claims_of_an_instance_whose_lease_ran_out_are_taken_back(store):
    from syncd.store import leases

    now = time.time()
    with store.begin() as conn:
        leases.acquire(conn, "instance:dead", "dead", ttl=1, now=now - 10)
        leases.acquire(conn, "instance:alive", "alive", ttl=60, now=now)
        outbox.enqueue(conn, [cmd("A", 1), cmd("B", 1)])
        (a1,) = outbox.claim(conn, target="crm", owner="alive", limit=1, claim_ttl=600)
        (b1,) = outbox.claim(conn, target="crm", owner="dead", limit=1, claim_ttl=600)
    with store.begin() as conn:
        taken = outbox.claim(conn, target="crm", owner="new", limit=10, claim_ttl=600)
    assert (a1.command.key, b1.command.key) == ("A", "B")
    assert [c.command.key for c in taken] == ["B"]  # A's owner is alive: its claim stands


def test_an_instance_late_to_renew_its_lease_never_takes_back_its_own_running_claims(store):
    # its loop stalled past the instance TTL while its workers still apply the claim:
    # taking it back would apply the same write twice, side by side
    from syncd.store import leases

    now = time.time()
    with store.begin() as conn:
        leases.acquire(conn, "instance:slow", "slow", ttl=1, now=now - 10)
        outbox.enqueue(conn, [cmd("A", 1)])
        (first,) = outbox.claim(conn, target="crm", owner="slow", limit=1, claim_ttl=600)
    with store.begin() as conn:
        assert outbox.claim(conn, target="crm", owner="slow", limit=1, claim_ttl=600) == []
        (other,) = outbox.claim(conn, target="crm", owner="other", limit=1, claim_ttl=600)
    assert other.command.id == first.command.id  # another instance may: "slow" looks dead


def test_a_claim_taken_back_from_a_dead_instance_keeps_its_attempt_and_counts_an_interruption(
    store,
):
    from syncd.store import leases

    now = time.time()
    with store.begin() as conn:
        leases.acquire(conn, "instance:dead", "dead", ttl=1, now=now - 10)
        outbox.enqueue(conn, [cmd("A", 1)])
        (first,) = outbox.claim(conn, target="crm", owner="dead", limit=1, claim_ttl=600)
    with store.begin() as conn:  # the holder died mid-apply: taken back, twice
        (second,) = outbox.claim(conn, target="crm", owner="next", limit=1, claim_ttl=-1)
        (third,) = outbox.claim(conn, target="crm", owner="later", limit=1, claim_ttl=600)
    assert [c.command.attempts for c in (first, second, third)] == [1, 1, 1]
    assert [c.command.interruptions for c in (first, second, third)] == [0, 1, 2]


def test_a_command_every_attempt_of_which_killed_the_process_is_set_aside_once(store):
    from syncd.engine.applying import apply_claims
    from syncd.engine.contracts import Result, Sink
    from syncd.engine.retry import RetryPolicy
    from syncd.store import dead_letters

    class Recording(Sink):
        name, system, applied = "crm", "crm", []

        def __init__(self) -> None:
            pass

        def apply(self, commands):  # noqa: ANN001, ANN201
            self.applied += [c.key for c in commands]
            return [Result.applied(c) for c in commands]

    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1), cmd("B", 1)])
        outbox.claim(conn, target="crm", owner="gone", limit=10, claim_ttl=-1)
        for _ in range(3):  # claims that expired: their holder died each time
            outbox.claim(conn, target="crm", owner="gone", limit=10, claim_ttl=-1)
        conn.execute(
            outbox_table.update().where(outbox_table.c.object_id == "B").values(interruptions=0)
        )
        claims = outbox.claim(conn, target="crm", owner="me", limit=10, claim_ttl=600)
    sink = Recording()
    round_ = apply_claims(store, sink, claims, RetryPolicy(max_attempts=3))
    with store.read() as conn:
        (letter,) = dead_letters.list_open(conn)
    assert sink.applied == ["B"] and round_.dead == 1 and round_.applied == 1
    assert letter.subject == "crm/order/A" and "cut short 4 times" in letter.error


def change_of(key: str, version: str, system: str = "erp", entity: str = "order", **data):  # noqa: ANN201
    return Event(system, entity, key, version, data, changed_at=data.pop("at", None))


def test_the_newest_pending_change_of_one_object_and_nothing_of_another(store):
    with store.begin() as conn:
        others = [change_of("A", "9", system="crm"), change_of("A", "8", entity="order_state")]
        inbox.add(
            conn, [change_of("A", "1"), change_of("A", "2"), change_of("B", "1"), *others], "s"
        )
        newest = inbox.newest_pending(conn, "erp", "order", "A")
        assert newest.version == "2" and newest.external_id == "A"
        inbox.mark(conn, {newest.id: ("done", "updated")})
        assert inbox.newest_pending(conn, "erp", "order", "A").version == "1"
        assert inbox.newest_pending(conn, "erp", "order", "C") is None
        assert inbox.get(conn, newest.id).version == "2" and inbox.get(conn, 10**9) is None


def test_marked_events_carry_their_state_outcome_and_time(store):
    with store.begin() as conn:
        inbox.add(conn, [change_of("A", "1"), change_of("B", "1"), change_of("C", "1")], "s")
        a, b, c = inbox.pending(conn, 10)
        inbox.mark(conn, {a.id: ("done", "updated"), b.id: ("failed", "error")}, now=1234.0)
        rows = {r.external_id: r for r in conn.execute(select(inbox_table))}
        assert inbox.count_pending(conn) == 1
    assert (rows["A"].state, rows["A"].outcome, rows["A"].processed_at) == (
        "done",
        "updated",
        1234.0,
    )
    assert (rows["B"].state, rows["B"].outcome) == ("failed", "error")
    assert (rows["C"].state, rows["C"].processed_at) == ("pending", None)


def test_replay_requeue_and_requeue_newest(store):
    with store.begin() as conn:
        inbox.add(conn, [change_of("A", "1"), change_of("A", "2"), change_of("B", "1")], "s1")
        inbox.add(conn, [change_of("C", "1")], "s2")
        everything = inbox.pending(conn, 10)
        inbox.mark(conn, {e.id: ("done", "updated") for e in everything})
        assert inbox.replay(conn, stream="s2") == 1 and inbox.count_pending(conn) == 1
        assert inbox.requeue(conn, everything[0].id) is True
        assert inbox.requeue(conn, 10**9) is False
        assert inbox.requeue_newest(conn, "erp", "order", "B") is True
        assert inbox.requeue_newest(conn, "erp", "order", "Z") is False
        versions = sorted((e.external_id, e.version) for e in inbox.pending(conn, 10))
    assert versions == [("A", "1"), ("B", "1"), ("C", "1")]


def test_the_oldest_waiting_change_per_system_by_its_source_time(store):
    with store.begin() as conn:
        inbox.add(conn, [change_of("A", "1", at=50.0), change_of("B", "1", at=40.0),
                         change_of("C", "1", system="crm", at=70.0)], "s")  # fmt: skip
        (b,) = [e for e in inbox.pending(conn, 10) if e.external_id == "B"]
        inbox.mark(conn, {b.id: ("done", "updated")})
        assert inbox.oldest_pending_by_system(conn) == {"erp": 50.0, "crm": 70.0}


def test_recent_payloads_of_the_systems_asked_newest_first(store):
    with store.begin() as conn:
        crm = change_of("C", "1", system="crm", n=3)
        erp = [change_of("A", "1", n=1), change_of("B", "1", n=2)]
        inbox.add(conn, [*erp, crm, change_of("D", "1", n=4)], "s")
        assert inbox.recent_payloads(conn, ["erp"], 2) == [{"n": 4}, {"n": 2}]
        assert inbox.recent_payloads(conn, [], 2) == []
