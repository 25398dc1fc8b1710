"""Judging a retried write by re-reading: what counts as "the CRM has syncd's values",
and which history records count as someone else's newer change."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from syncd.connectors.retailcrm.late_writes import changed_by_others, holds

MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.mark.parametrize(
    ("current", "intended"),
    [
        ({"id": 7, "status": "assembling", "summ": 990}, {"status": "assembling"}),
        (  # payments come keyed by id; the CRM adds ids and amounts
            {"payments": {"41": {"id": 41, "type": "card", "status": "paid", "amount": 990}}},
            {"payments": [{"type": "card", "status": "paid"}]},
        ),
        (
            {"items": [{"id": 3, "initialPrice": 990.0, "quantity": 1}]},
            {"items": [{"initialPrice": 990}]},
        ),
        ({"customFields": []}, {"customFields": {}}),  # an empty map comes as []
        (
            {"customer": {"id": 5, "externalId": "p-1", "type": "customer"}},
            {"customer": {"externalId": "p-1"}},
        ),
        ({"status": "new"}, {"status": "new", "site": "main"}),  # site addresses, not a field
    ],
)
def test_the_crm_has_syncds_values_whatever_it_added(current, intended):
    assert holds(current, intended)


@pytest.mark.parametrize(
    ("current", "intended"),
    [
        ({"status": "client-confirmed"}, {"status": "assembling"}),
        ({"items": [{"quantity": 1}, {"quantity": 2}]}, {"items": [{"quantity": 1}]}),
        ({"customFields": {"ltv": "100"}}, {"customFields": {"ltv": 120}}),
        ({}, {"managerComment": "позвонить"}),
        ({"shipped": False}, {"shipped": 0}),
    ],
)
def test_a_value_the_crm_lacks_or_holds_otherwise_is_not_there(current, intended):
    assert not holds(current, intended)


def test_only_changes_by_others_from_the_second_of_planning_on_count():
    planned = 1_790_000_000.5  # 2026-09-21 17:13:20.5 Moscow
    records = [
        {"id": 1, "createdAt": "2026-09-21 17:13:19", "source": "user"},  # before: known
        {"id": 2, "createdAt": "2026-09-21 17:13:20", "source": "user"},  # same second
        {"id": 3, "createdAt": "2026-09-21 17:13:25", "source": "api", "apiKey": {"current": True}},
        {
            "id": 4,
            "createdAt": "2026-09-21 17:13:26",
            "source": "api",
            "apiKey": {"current": False},
        },
    ]
    assert [r["id"] for r in changed_by_others(records, planned, MOSCOW)] == [2, 4]
    assert [r["id"] for r in changed_by_others(records, None, MOSCOW)] == [1, 2, 4]
