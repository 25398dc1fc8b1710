"""The outbox's rules, each pinned on SQLite and PostgreSQL.

When a command is due and for whom, what each way out of a claim leaves in its
row (state, times, error, attempts, the claim itself), and what the health
figures count.  Every time is given explicitly so a boundary (``<`` against
``<=``) shows; where a function takes no time, the row's time is checked to
fall between two readings of the clock.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, update

from syncd.model import Command
from syncd.store import leases, outbox
from syncd.store.schema import outbox as outbox_table

T0 = 1_700_000_000.0


def cmd(key: str, n: int, target: str = "crm", entity: str = "order", **extra) -> Command:
    return Command(target, entity, key, "upsert", {"n": n}, f"{target}:{entity}:{key}:{n}", **extra)


def row(conn, command_id: int):  # noqa: ANN001, ANN201
    return conn.execute(select(outbox_table).where(outbox_table.c.id == command_id)).one()


def ids_of(conn, key: str) -> list[int]:  # noqa: ANN001
    return list(
        conn.execute(
            select(outbox_table.c.id)
            .where(outbox_table.c.object_id == key)
            .order_by(outbox_table.c.id)
        ).scalars()
    )


def set_state(conn, command_id: int, **values) -> None:  # noqa: ANN001
    conn.execute(update(outbox_table).where(outbox_table.c.id == command_id).values(**values))


def claim(conn, owner: str = "w", now: float = T0, limit: int = 10, ttl: float = 60, target="crm"):  # noqa: ANN001, ANN201
    return outbox.claim(conn, target=target, owner=owner, limit=limit, claim_ttl=ttl, now=now)


def keys(claims) -> list[tuple[str, int]]:  # noqa: ANN001
    return [(c.command.key, c.command.payload["n"]) for c in claims]


# --- queueing and reading back ---------------------------------------------------------


def test_a_queued_command_is_stored_whole_and_due_at_once(store):
    command = cmd(
        "A", 1, flow="orders", origin_system="erp", origin_id="G1", source_changed_at=T0 - 5
    )
    with store.begin() as conn:
        assert outbox.enqueue(conn, [], now=T0) == 0
        assert outbox.enqueue(conn, [command], now=T0) == 1
        (command_id,) = ids_of(conn, "A")
        stored = row(conn, command_id)
        back = outbox.get(conn, command_id)
        assert outbox.get(conn, command_id + 1000) is None
    assert (stored.target, stored.entity, stored.object_id) == ("crm", "order", "A")
    assert stored.object_key == "crm/order/A" and stored.action == "upsert"
    assert stored.payload == '{"n":1}' and stored.fingerprint == command.fingerprint
    assert (stored.flow, stored.origin_system, stored.origin_id) == ("orders", "erp", "G1")
    assert stored.source_changed_at == T0 - 5
    assert (stored.created_at, stored.next_attempt_at) == (T0, T0)
    assert (stored.state, stored.attempts, stored.interruptions) == ("pending", 0, 0)
    assert back == Command(
        "crm", "order", "A", "upsert", {"n": 1}, "crm:order:A:1", flow="orders",
        origin_system="erp", origin_id="G1", source_changed_at=T0 - 5, id=command_id,
        attempts=0, progress=None, interruptions=0, planned_at=T0,
    )  # fmt: skip


def test_a_command_queued_without_a_time_is_stamped_with_the_clock(store):
    before = time.time()
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1)])
        stored = row(conn, ids_of(conn, "A")[0])
    assert before <= stored.created_at <= time.time()
    assert stored.next_attempt_at == stored.created_at


# --- when a command is due -------------------------------------------------------------


def test_a_pending_command_is_due_from_its_next_attempt_time_on(store):
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1)], now=T0)
        (a1,) = ids_of(conn, "A")
        set_state(conn, a1, next_attempt_at=T0 + 10)
        assert claim(conn, now=T0 + 9.5) == []
        (taken,) = claim(conn, now=T0 + 10)
    assert taken.command.id == a1


def test_a_running_claim_is_taken_back_only_once_its_time_has_passed(store):
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1)], now=T0)
        (first,) = claim(conn, owner="w1", now=T0, ttl=30)
        assert row(conn, first.command.id).claimed_until == T0 + 30
        assert claim(conn, owner="w2", now=T0 + 30) == []
        (second,) = claim(conn, owner="w2", now=T0 + 30.5, ttl=30)
    assert second.command.id == first.command.id and second.token != first.token


def test_a_claim_is_taken_back_once_its_instance_lease_lapsed_not_while_it_holds(store):
    with store.begin() as conn:
        leases.acquire(conn, "instance:w1", "w1", ttl=5, now=T0)  # expires at T0 + 5
        outbox.enqueue(conn, [cmd("A", 1)], now=T0)
        (first,) = claim(conn, owner="w1", now=T0, ttl=600)
        assert claim(conn, owner="w2", now=T0 + 5) == []  # the lease runs to T0 + 5
        (taken,) = claim(conn, owner="w2", now=T0 + 5.5)
    assert taken.command.id == first.command.id


def test_only_the_asked_targets_commands_are_claimed(store):
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1, target="erp"), cmd("B", 1)], now=T0)
        assert keys(claim(conn, target="erp")) == [("A", 1)]
        assert keys(claim(conn, target="crm")) == [("B", 1)]
        assert claim(conn, target="pos") == []


def test_a_claim_takes_at_most_its_limit_oldest_first(store):
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd(k, 1) for k in "DCBA"], now=T0)
        assert keys(claim(conn, limit=2)) == [("D", 1), ("C", 1)]
        assert keys(claim(conn, limit=1)) == [("B", 1)]
        assert keys(claim(conn, limit=5)) == [("A", 1)]


@pytest.mark.parametrize("earlier", ["pending", "running", "dead"])
def test_an_unfinished_earlier_command_holds_back_its_objects_later_ones(store, earlier):
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1), cmd("A", 2)], now=T0)
        a1, _ = ids_of(conn, "A")
        # not due itself (pending later, running under a live claim) yet still in the way
        set_state(conn, a1, state=earlier, next_attempt_at=T0 + 99, claimed_until=T0 + 99)
        assert claim(conn) == []


@pytest.mark.parametrize("earlier", ["done", "superseded", "discarded"])
def test_a_finished_earlier_command_holds_nothing_back(store, earlier):
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1), cmd("A", 2)], now=T0)
        a1, _ = ids_of(conn, "A")
        set_state(conn, a1, state=earlier)
        assert keys(claim(conn)) == [("A", 2)]


def test_the_same_key_of_another_entity_or_target_is_another_object(store):
    with store.begin() as conn:
        outbox.enqueue(
            conn, [cmd("A", 1), cmd("A", 2, entity="customer"), cmd("A", 3, target="erp")], now=T0
        )
        assert keys(claim(conn)) == [("A", 1), ("A", 2)]
        assert keys(claim(conn, target="erp")) == [("A", 3)]


def test_a_claim_marks_its_rows_running_for_its_owner_with_one_token(store):
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1), cmd("B", 1)], now=T0)
        claims = claim(conn, owner="w1", now=T0 + 1, ttl=45)
        rows = [row(conn, c.command.id) for c in claims]
        (again,) = [c for c in claim(conn, owner="w2", now=T0 + 50) if c.command.key == "A"]
        retaken = row(conn, again.command.id)
    assert len({c.token for c in claims}) == 1
    for r in rows:
        assert (r.state, r.claimed_by, r.claim_token) == ("running", "w1", claims[0].token)
        assert (r.claimed_until, r.attempts, r.interruptions) == (T0 + 46, 1, 0)
    assert [c.command.attempts for c in claims] == [1, 1]
    # taken back: the same attempt goes on, one more interruption, the new holder's claim
    assert (retaken.attempts, retaken.interruptions, retaken.claimed_by) == (1, 1, "w2")
    assert retaken.claimed_until == T0 + 110 and retaken.claim_token == again.token


def test_a_claim_without_a_time_reads_the_clock(store):
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1)], now=time.time() + 3600)  # due in an hour
        assert outbox.claim(conn, target="crm", owner="w", limit=1, claim_ttl=60) == []
        outbox.enqueue(conn, [cmd("B", 1)], now=time.time() - 1)
        before = time.time()
        (b,) = outbox.claim(conn, target="crm", owner="w", limit=1, claim_ttl=60)
        until = row(conn, b.command.id).claimed_until
    assert before + 60 <= until <= time.time() + 60


# --- the ways out of a claim -------------------------------------------------------------


def queued_and_claimed(conn, *commands: Command):  # noqa: ANN001, ANN201
    outbox.enqueue(conn, list(commands), now=T0)
    return claim(conn, owner="w", now=T0)


def released(r) -> bool:  # noqa: ANN001
    return (r.claimed_by, r.claim_token, r.claimed_until) == (None, None, None)


def test_progress_is_kept_only_while_the_claim_is_held(store):
    with store.begin() as conn:
        (a,) = queued_and_claimed(conn, cmd("A", 1))
        assert outbox.note_progress(conn, a.command.id, a.token, {"step": "patched", "v": 2})
        assert not outbox.note_progress(conn, a.command.id, "other-token", {"step": "lost"})
        assert outbox.get(conn, a.command.id).progress == {"step": "patched", "v": 2}
        assert outbox.complete(conn, a.command.id, a.token, now=T0 + 1)
        assert not outbox.note_progress(conn, a.command.id, a.token, {"step": "late"})
        assert outbox.get(conn, a.command.id).progress == {"step": "patched", "v": 2}


def test_completing_marks_done_clears_the_error_and_releases_the_claim(store):
    with store.begin() as conn:
        (a,) = queued_and_claimed(conn, cmd("A", 1))
        set_state(conn, a.command.id, last_error="timeout before")
        assert not outbox.complete(conn, a.command.id, "other-token", now=T0 + 2)
        assert row(conn, a.command.id).state == "running"
        assert outbox.complete(conn, a.command.id, a.token, now=T0 + 2)
        done = row(conn, a.command.id)
    assert (done.state, done.done_at, done.last_error) == ("done", T0 + 2, None)
    assert released(done)


def test_completing_without_a_time_stamps_the_clock(store):
    with store.begin() as conn:
        (a, b) = queued_and_claimed(conn, cmd("A", 1), cmd("B", 1))
        before = time.time()
        assert outbox.complete(conn, a.command.id, a.token)
        assert outbox.complete_many(conn, [b.command.id], b.token) == {b.command.id}
        stamps = [row(conn, c.command.id).done_at for c in (a, b)]
    assert all(before <= s <= time.time() for s in stamps)


def test_completing_a_batch_marks_only_the_claims_still_held(store):
    with store.begin() as conn:
        a, b, c = queued_and_claimed(conn, cmd("A", 1), cmd("B", 1), cmd("C", 1))
        assert outbox.complete_many(conn, [], a.token) == set()
        # B's claim was lost meanwhile (taken back by another worker); C was not asked
        set_state(conn, b.command.id, claim_token="newer")
        set_state(conn, a.command.id, last_error="earlier failure")
        kept = outbox.complete_many(conn, [a.command.id, b.command.id], a.token, now=T0 + 3)
        rows = {k: row(conn, x.command.id) for k, x in zip("ABC", (a, b, c), strict=True)}
        # a done command is not completed twice
        assert outbox.complete_many(conn, [a.command.id], a.token, now=T0 + 9) == set()
        assert row(conn, a.command.id).done_at == T0 + 3
    assert kept == {a.command.id}
    assert (rows["A"].state, rows["A"].done_at, rows["A"].last_error) == ("done", T0 + 3, None)
    assert released(rows["A"])
    assert (rows["B"].state, rows["C"].state) == ("running", "running")


def test_a_retry_is_pending_at_its_time_with_its_error_and_no_claim(store):
    with store.begin() as conn:
        (a,) = queued_and_claimed(conn, cmd("A", 1))
        assert not outbox.retry_later(conn, a.command.id, "other-token", "x", T0 + 30)
        assert outbox.retry_later(conn, a.command.id, a.token, "503 busy", T0 + 30)
        again = row(conn, a.command.id)
        assert not outbox.retry_later(conn, a.command.id, a.token, "twice", T0 + 60)
    assert (again.state, again.next_attempt_at) == ("pending", T0 + 30)
    assert (again.last_error, again.attempts) == ("503 busy", 1) and released(again)


def test_a_command_given_back_is_due_now_its_attempt_unspent_its_error_kept(store):
    with store.begin() as conn:
        (a,) = queued_and_claimed(conn, cmd("A", 1))
        set_state(conn, a.command.id, last_error="an earlier try failed")
        before = time.time()
        assert not outbox.give_back(conn, a.command.id, "other-token")
        assert outbox.give_back(conn, a.command.id, a.token)
        back = row(conn, a.command.id)
    assert (back.state, back.attempts, back.last_error) == ("pending", 0, "an earlier try failed")
    assert before <= back.next_attempt_at <= time.time() and released(back)


def test_a_superseded_command_is_closed_with_its_reason_and_holds_nothing_back(store):
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1), cmd("A", 2)], now=T0)
        (a1,) = claim(conn, now=T0)
        before = time.time()
        assert not outbox.supersede(conn, a1.command.id, "other-token", "changed")
        assert outbox.supersede(conn, a1.command.id, a1.token, "the order changed in 1C")
        closed = row(conn, a1.command.id)
        assert keys(claim(conn, now=T0)) == [("A", 2)]
    assert (closed.state, closed.last_error) == ("superseded", "the order changed in 1C")
    assert before <= closed.done_at <= time.time() and released(closed)


def test_a_parked_command_is_dead_with_its_error_and_no_claim(store):
    with store.begin() as conn:
        (a,) = queued_and_claimed(conn, cmd("A", 1))
        assert not outbox.park(conn, a.command.id, "other-token", "x")
        assert outbox.park(conn, a.command.id, a.token, "400 bad field")
        dead = row(conn, a.command.id)
    assert (dead.state, dead.last_error, dead.done_at) == ("dead", "400 bad field", None)
    assert released(dead)


def test_release_gives_back_only_this_owners_running_claims_due_now(store):
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1), cmd("B", 1), cmd("C", 1)], now=T0)
        (a,) = claim(conn, owner="me", limit=1)
        (b,) = claim(conn, owner="other", limit=1)
        (c,) = claim(conn, owner="me", limit=1)
        outbox.park(conn, c.command.id, c.token, "refused")
        set_state(conn, c.command.id, claimed_by="me")  # a dead row naming me stays dead
        before = time.time()
        assert outbox.release(conn, "me") == 1
        mine, theirs, dead = (row(conn, x.command.id) for x in (a, b, c))
        assert outbox.release(conn, "nobody") == 0
    assert mine.state == "pending" and released(mine)
    assert before <= mine.next_attempt_at <= time.time()
    assert (theirs.state, theirs.claimed_by) == ("running", "other")
    assert dead.state == "dead"


def test_requeue_and_discard_act_on_dead_commands_only(store):
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1), cmd("B", 1)], now=T0)
        a, b = claim(conn)
        for _ in range(2):  # two attempts spent
            outbox.retry_later(conn, a.command.id, a.token, "busy", T0)
            (a,) = [c for c in claim(conn) if c.command.key == "A"]
        assert row(conn, a.command.id).attempts == 3
        assert not outbox.requeue(conn, a.command.id, now=T0 + 5)  # running, not dead
        assert not outbox.discard(conn, a.command.id)
        outbox.park(conn, a.command.id, a.token, "refused")
        outbox.park(conn, b.command.id, b.token, "refused")
        assert outbox.requeue(conn, a.command.id, now=T0 + 5)
        requeued = row(conn, a.command.id)
        before = time.time()
        assert outbox.discard(conn, b.command.id)
        discarded = row(conn, b.command.id)
        assert not outbox.requeue(conn, b.command.id) and not outbox.discard(conn, b.command.id)
    assert (requeued.state, requeued.attempts, requeued.next_attempt_at) == ("pending", 0, T0 + 5)
    assert discarded.state == "discarded" and before <= discarded.done_at <= time.time()


def test_requeue_and_discard_touch_only_the_command_named(store):
    with store.begin() as conn:
        outbox.enqueue(conn, [cmd("A", 1), cmd("B", 1), cmd("C", 1)], now=T0)
        for c in claim(conn):
            outbox.park(conn, c.command.id, c.token, "refused")
        a, b, c = (ids_of(conn, k)[0] for k in "ABC")
        assert outbox.discard(conn, a) and outbox.requeue(conn, b, now=T0 + 1)
        states = [row(conn, x).state for x in (a, b, c)]
    assert states == ["discarded", "pending", "dead"]


def test_requeue_without_a_time_is_due_now(store):
    with store.begin() as conn:
        (a,) = queued_and_claimed(conn, cmd("A", 1))
        outbox.park(conn, a.command.id, a.token, "refused")
        before = time.time()
        assert outbox.requeue(conn, a.command.id)
        assert before <= row(conn, a.command.id).next_attempt_at <= time.time()


# --- what the store reports ----------------------------------------------------------------


def test_the_last_fingerprint_is_the_newest_live_commands_of_each_object_asked(store):
    with store.begin() as conn:
        commands = [cmd("A", 1), cmd("A", 2), cmd("B", 1), cmd("B", 2), cmd("C", 1), cmd("D", 1)]
        outbox.enqueue(conn, commands, now=T0)
        a1, a2 = ids_of(conn, "A")
        b1, b2 = ids_of(conn, "B")
        set_state(conn, a1, state="done")
        set_state(conn, a2, state="running")
        set_state(conn, b1, state="done")
        set_state(conn, b2, state="superseded")  # never written: B's newest live is B1
        set_state(conn, ids_of(conn, "C")[0], state="dead")
        found = outbox.last_fingerprints(conn, ["crm/order/A", "crm/order/B", "crm/order/C"])
        assert outbox.last_fingerprints(conn, []) == {}
    fp = {(c.key, c.payload["n"]): c.fingerprint for c in commands}
    assert found == {"crm/order/A": fp[("A", 2)], "crm/order/B": fp[("B", 1)]}


def test_last_fingerprints_of_more_objects_than_one_query_binds(store):
    from syncd.store.sql import IN_LIST

    many = [cmd(f"K{i:05d}", i) for i in range(IN_LIST + 3)]
    with store.begin() as conn:
        outbox.enqueue(conn, many, now=T0)
        found = outbox.last_fingerprints(conn, [c.object_key for c in many] * 2)
    assert found == {c.object_key: c.fingerprint for c in many}


def test_counts_are_unfinished_commands_per_state_and_the_pending_that_failed(store):
    with store.begin() as conn:
        assert outbox.counts(conn) == {"retrying": 0}
        outbox.enqueue(conn, [cmd(k, 1) for k in "ABCDEFG"], now=T0)
        ids = {k: ids_of(conn, k)[0] for k in "ABCDEFG"}
        set_state(conn, ids["B"], last_error="busy")  # pending after a failed attempt
        set_state(conn, ids["C"], state="running")
        set_state(conn, ids["D"], state="dead", last_error="refused")
        set_state(conn, ids["E"], state="done", last_error="an old error")
        set_state(conn, ids["F"], state="superseded", last_error="changed")
        set_state(conn, ids["G"], state="running", last_error="busy before")
        assert outbox.counts(conn) == {"pending": 2, "running": 2, "dead": 1, "retrying": 1}


def test_pending_by_target_counts_what_is_still_to_write(store):
    with store.begin() as conn:
        outbox.enqueue(
            conn, [cmd("A", 1), cmd("B", 1), cmd("C", 1), cmd("D", 1, target="erp")], now=T0
        )
        set_state(conn, ids_of(conn, "B")[0], state="running")
        set_state(conn, ids_of(conn, "C")[0], state="dead")
        assert outbox.pending_by_target(conn) == {"crm": 2, "erp": 1}
        set_state(conn, ids_of(conn, "D")[0], state="done")
        assert outbox.pending_by_target(conn) == {"crm": 2}


def test_the_oldest_unapplied_change_per_route_by_its_source_time(store):
    with store.begin() as conn:
        outbox.enqueue(
            conn,
            [
                cmd("A", 1, origin_system="erp", source_changed_at=T0 - 50),
                cmd("B", 1, origin_system="erp", source_changed_at=T0 - 20),
                cmd("C", 1, origin_system="erp", source_changed_at=T0 - 90),
                cmd("D", 1, target="erp", origin_system="crm"),  # no source time: queued at
            ],
            now=T0,
        )
        set_state(conn, ids_of(conn, "C")[0], state="done")
        assert outbox.oldest_pending_by_route(conn) == {
            ("erp", "crm"): T0 - 50,
            ("crm", "erp"): T0,
        }
