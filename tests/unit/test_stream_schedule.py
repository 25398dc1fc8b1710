"""When a stream polls next: its interval, a webhook's nudge, the gap after its last poll."""

from __future__ import annotations

from syncd.engine.schedule import StreamSchedule

T0 = 1_000_000.0


def test_a_stream_never_polled_is_due_at_once_then_after_its_interval():
    schedule = StreamSchedule(lambda: 1.0)
    assert schedule.due("erp", 0.0)
    schedule.started("erp", interval=30, now=T0)
    assert not schedule.due("erp", T0 + 29.9)
    assert schedule.due("erp", T0 + 30)


def test_a_webhook_polls_at_once_or_the_gap_after_the_last_poll_began():
    gap = [1.0]
    schedule = StreamSchedule(lambda: gap[0])
    schedule.nudge("never")  # never polled: at once
    assert schedule.next_run["never"] == 0.0
    schedule.started("erp", interval=600, now=T0)
    for _ in range(3):  # a burst asks for the same one poll
        schedule.nudge("erp")
        assert schedule.next_run["erp"] == T0 + 1.0
    gap[0] = 5.0  # read when nudged (a reload may change it)
    schedule.started("erp", interval=600, now=T0 + 1.0)
    schedule.nudge("erp")
    assert schedule.next_run["erp"] == T0 + 6.0


def test_a_nudge_never_puts_a_poll_off():
    schedule = StreamSchedule(lambda: 10.0)
    schedule.started("erp", interval=600, now=T0)
    schedule.next_run["erp"] = T0 + 2.0  # already due sooner than the gap
    schedule.nudge("erp")
    assert schedule.next_run["erp"] == T0 + 2.0


def test_the_wait_until_the_next_idle_stream_is_due_is_bounded_both_ways():
    schedule = StreamSchedule(lambda: 1.0)
    schedule.started("a", interval=30, now=T0)
    schedule.started("b", interval=5, now=T0)
    assert schedule.seconds_to_next(["a", "b"], 10.0, T0 + 1) == 4.0
    assert schedule.seconds_to_next(["a"], 10.0, T0 + 1) == 10.0  # b runs: not waited for
    assert schedule.seconds_to_next(["a", "b", "new"], 10.0, T0 + 9) == 0.0  # overdue
    assert schedule.seconds_to_next([], 10.0, T0) == 10.0
