"""Work hints: the loop looks at the inbox and claims when something may have come,
and otherwise once a tick."""

from __future__ import annotations

from syncd.engine.hints import WorkHints


def test_the_inbox_is_looked_at_after_a_source_run_and_else_once_a_tick():
    tick = [600.0]
    hints = WorkHints(lambda: tick[0])
    assert hints.inbox_due()  # at start: whatever the store holds
    assert not hints.inbox_due()  # nothing came since
    hints.source_run_ended()
    assert hints.inbox_due() and not hints.inbox_due()
    hints.inbox_has_more()  # planning stopped with events still waiting
    assert hints.inbox_due()
    tick[0] = 0.0  # a tick has passed: another process may have added some
    assert hints.inbox_due()


def test_a_sink_claims_after_commands_were_queued_or_a_round_ended_and_else_once_a_tick():
    tick = [600.0]
    hints = WorkHints(lambda: tick[0])
    assert hints.claims_due("crm")  # never looked
    hints.nothing_to_claim("crm")
    assert not hints.claims_due("crm")
    hints.commands_queued(["crm", "erp"])
    assert hints.claims_due("crm") and hints.claims_due("erp")
    hints.nothing_to_claim("crm")
    hints.write_round_ended("crm")  # the object's next write may go, or a retry is due
    assert hints.claims_due("crm")
    hints.nothing_to_claim("crm")
    tick[0] = 0.0
    assert hints.claims_due("crm")  # retries coming due, other instances' work
