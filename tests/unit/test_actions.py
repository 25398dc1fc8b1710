"""Typed commands: each sink's actions are models; flows build them, planning checks every
command against its sink's before storing it, and the sink reads them back typed."""

from __future__ import annotations

import pytest

from syncd.connectors.onec.actions import ACTIONS as ONEC_ACTIONS
from syncd.connectors.onec.actions import ORDERS, CancelLines, SetStatus, Update
from syncd.connectors.retailcrm.actions import ACTIONS as CRM_ACTIONS
from syncd.connectors.retailcrm.actions import LinkOrCreate, Match, Upsert
from syncd.engine.actions import BadCommand, check
from syncd.model import Command, Event

CAUSE = Event("erp", "order", "R-1", "v1", {})


def test_a_status_write_posts_by_default_and_an_update_does_not():
    assert SetStatus().post is True and Update().post is False
    assert SetStatus().set == ORDERS


def test_the_payload_is_what_the_flow_gave_and_no_more():
    """The outbox keeps exactly the given fields, so the fingerprints of writes planned
    before typed actions (the same dicts) still match the ones planned now."""
    write = {"set": ORDERS, "fields": {"Статус": "КОтгрузке"}, "expected_version": None}
    command = Command.for_event(
        target="erp", entity="order", key="R-1", cause=CAUSE, flow="f",
        action=SetStatus(**write, cancel_lines=CancelLines(section="Товары", flag="Отменено")),
    )  # fmt: skip
    assert command.action == "set_status"
    assert command.payload == {**write, "cancel_lines": {"section": "Товары", "flag": "Отменено"}}
    link = LinkOrCreate(customer={"firstName": "Анна"}, match={}, aliases=["syncd-7"])
    expected = {"customer": {"firstName": "Анна"}, "match": {}, "aliases": ["syncd-7"]}
    assert link.payload() == expected
    order = Upsert.model_validate({"externalId": "R-1", "site": "main", "items": []})
    assert order.payload() == {"externalId": "R-1", "site": "main", "items": []}


def test_a_sink_reads_its_command_back_typed():
    command = Command("crm", "customer", "P-1", "link_or_create", LinkOrCreate(
        customer={"email": "a@b.ru"}, match=Match(email="a@b.ru")).payload(), "k")  # fmt: skip
    link = LinkOrCreate.of(command)
    assert link.match.email == "a@b.ru" and link.aliases == []


@pytest.mark.parametrize(
    ("action", "payload", "names"),
    [
        ("link_or_create", {"match": {"phones": ["+7"]}}, "customer"),
        ("link_or_create", {"customer": {}, "match": {"phone": "+7912"}}, "match.phone"),
        ("fix_external_id", {}, "id"),
        ("merge", {}, "no action 'merge'"),
    ],
)
def test_a_bad_command_is_named_by_its_action_and_field_never_its_values(action, payload, names):
    command = Command("crm", "customer", "P-1", action, payload, "k")
    with pytest.raises(BadCommand) as caught:
        check(command, CRM_ACTIONS, "crm")
    message = str(caught.value)
    assert names in message
    assert "+7912" not in message  # values (a customer's phone) stay out of errors and logs


def test_a_sink_without_declared_actions_takes_any():
    check(Command("dir", "order", "1", "anything", {"x": 1}, "k"), {}, "dir")


def test_every_bad_field_is_named_in_one_line_and_a_bad_payload_as_a_whole_too():
    two = Command("erp", "order", "R-1", "set_status", {"fields": 1, "post": "x"}, "k")
    with pytest.raises(BadCommand) as caught:
        check(two, ONEC_ACTIONS, "erp")
    assert str(caught.value).startswith("a 'set_status' command's payload: fields: ")
    assert "; post: " in str(caught.value) and "https://" not in str(caught.value)
    whole = Command("crm", "order", "R-1", "fix_external_id", ["not", "an", "object"], "k")
    with pytest.raises(BadCommand, match=r"payload: payload: Input should be"):
        check(whole, CRM_ACTIONS, "crm")


def test_an_unknown_action_names_the_sink_and_the_actions_it_has():
    command = Command("crm", "order", "R-1", "merge", {}, "k")
    with pytest.raises(BadCommand) as caught:
        check(command, CRM_ACTIONS, "crm")
    known = ", ".join(sorted(CRM_ACTIONS))
    assert str(caught.value) == f"sink 'crm' has no action 'merge' (it has: {known})"
