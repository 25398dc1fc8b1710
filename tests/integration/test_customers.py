"""Customers: one CRM customer per person, found by binding, phone or e-mail before creating."""

from __future__ import annotations

from syncd.config import load_settings
from syncd.connectors.retailcrm.linking import holds
from syncd.engine.contracts import PartContext
from syncd.engine.pipeline import build_pipeline
from syncd.metrics import Metrics
from syncd.model import Command
from syncd_sandbox.crm_app import SandboxCrm
from tests.support.daemon import write_config
from tests.support.e2e import NO_ERP, order_config, unreachable_env
from tests.support.serve import serving

KEY = "customers-test-key-000000"


def crm_sink(tmp_path, url):  # noqa: ANN001, ANN201
    extra = {
        "flows": [],
        "sinks": {
            "crm": {"kind": "retailcrm", "system": "crm", "options": {"requests_per_second": 1000}}
        },
    }
    config = write_config(tmp_path, f"sqlite:///{tmp_path}/c.db", sources=[], extra=extra)
    settings = load_settings(config, {"SYNCD_CRM_URL": url, "SYNCD_CRM_API_KEY": KEY})
    return build_pipeline(settings, PartContext(settings, Metrics())).sinks["crm"]


def link(sink, ref: str, customer: dict, match: dict):  # noqa: ANN001, ANN201
    cmd = Command(
        "crm",
        "customer",
        ref,
        "link_or_create",
        {"customer": {**customer, "externalId": ref}, "match": match},
        f"t:{ref}",
        id=1,
    )
    (result,) = sink.apply([cmd])
    assert result.ok, result.error
    return result


def test_a_customer_with_the_same_phone_is_linked_not_duplicated(tmp_path):
    crm = SandboxCrm([KEY], requests_per_second=None)
    known = crm.state.create(
        "customer",
        {"firstName": "Анна", "phones": [{"number": "+7 (916) 123-45-67"}]},
        None,
        "user",
    )
    with serving(crm) as url:
        sink = crm_sink(tmp_path, url)
        result = link(
            sink, "p-1", {"firstName": "Анна", "lastName": "Иванова"}, {"phones": ["+79161234567"]}
        )
    assert result.remote_id == str(known["id"])
    assert len(crm.state.records["customer"]) == 1
    assert known["externalId"] == "p-1" and known["lastName"] == "Иванова"


def test_a_customer_with_the_same_email_is_linked(tmp_path):
    crm = SandboxCrm([KEY], requests_per_second=None)
    known = crm.state.create(
        "customer", {"firstName": "Ivan", "email": "ivan@example.ru"}, None, "user"
    )
    with serving(crm) as url:
        link(
            crm_sink(tmp_path, url),
            "p-2",
            {"firstName": "Иван"},
            {"phones": ["+79990000000"], "email": "ivan@example.ru"},
        )
    assert known["externalId"] == "p-2" and len(crm.state.records["customer"]) == 1


def test_no_match_creates_one_and_the_next_write_edits_it(tmp_path):
    crm = SandboxCrm([KEY], requests_per_second=None)
    crm.state.create(
        "customer", {"firstName": "Другой", "phones": [{"number": "+79160000000"}]}, None, "user"
    )
    with serving(crm) as url:
        sink = crm_sink(tmp_path, url)
        link(sink, "p-3", {"firstName": "Пётр"}, {"phones": ["+79161112233"]})
        link(sink, "p-3", {"firstName": "Пётр", "lastName": "Петров"}, {"phones": ["+79161112233"]})
    mine = [c for c in crm.state.records["customer"].values() if c.get("externalId") == "p-3"]
    assert len(mine) == 1 and mine[0]["lastName"] == "Петров"
    assert len(crm.state.records["customer"]) == 2


def test_a_bound_customer_that_holds_the_partner_s_data_already_is_not_edited_again(tmp_path):
    """The same partner linked again (an order's link after the customer flow's, a
    repeated 1C event) costs the look-up alone; a change is still written."""
    crm = SandboxCrm([KEY], requests_per_second=None)
    with serving(crm) as url:
        sink = crm_sink(tmp_path, url)
        who = {"firstName": "Пётр", "phones": [{"number": "+79161112233"}]}
        first = link(sink, "p-4", who, {"phones": ["+79161112233"]})
        (mine,) = crm.state.records["customer"].values()
        before, history = crm.requests, len(crm.state.history["customer"])
        again = link(sink, "p-4", who, {"phones": ["+79161112233"]})
        assert again.remote_id == first.remote_id == str(mine["id"])
        assert crm.requests == before + 1  # the batch's look-up, no edit
        assert len(crm.state.history["customer"]) == history
        changed = link(sink, "p-4", {**who, "lastName": "Петров"}, {"phones": ["+79161112233"]})
        assert changed.remote_id == first.remote_id
        assert crm.requests == before + 3 and mine["lastName"] == "Петров"


def test_holds_compares_what_would_be_sent_with_what_the_crm_has():
    current = {"id": 7, "firstName": "Анна", "phones": [{"number": "+7916", "id": 1}], "vip": False}
    assert holds(current, {"firstName": "Анна", "phones": [{"number": "+7916"}]})
    assert not holds(current, {"phones": [{"number": "+7916"}, {"number": "+7917"}]})
    assert not holds(current, {"phones": [{"number": "+7917"}]})
    assert not holds(current, {"lastName": "Иванова"})  # absent in the CRM
    assert not holds(current, {"vip": 0})  # 0 is not false
    assert not holds(current, {"address": {"text": "Москва"}})


def test_the_flow_splits_the_name_and_writes_phones_in_e164(tmp_path):
    config = order_config(tmp_path, f"sqlite:///{tmp_path}/f.db", NO_ERP)
    settings = load_settings(config, unreachable_env())
    flow = next(
        f
        for f in build_pipeline(settings, PartContext(settings, Metrics())).flows
        if f.kind == "customer_sync"
    )
    customer = flow.crm_customer(
        "p-4",
        {
            "Description": "Смирнова Мария Петровна",
            "КонтактнаяИнформация": [
                {"Тип": "Телефон", "Представление": "8 (916) 555-44-33"},
                {"Тип": "Телефон", "Представление": "нет"},
                {"Тип": "АдресЭлектроннойПочты", "Представление": " Maria@Example.RU "},
            ],
        },
    )
    assert customer == {
        "externalId": "p-4",
        "lastName": "Смирнова",
        "firstName": "Мария",
        "patronymic": "Петровна",
        "phones": [{"number": "+79165554433"}],
        "email": "maria@example.ru",
    }
