"""The CRM's customer binder against the sandbox CRM: which customer a person is."""

from __future__ import annotations

import pytest

from syncd.connectors.pacing import Pacer
from syncd.connectors.retailcrm.actions import Match
from syncd.connectors.retailcrm.binder import CustomerBinder
from syncd.connectors.retailcrm.client import CrmClient
from syncd.connectors.retailcrm.transport import CrmTransport
from syncd_sandbox.crm_app import SandboxCrm
from tests.support.serve import serving

KEY = "sandbox-key-binder-0000"


@pytest.fixture
def world():
    crm = SandboxCrm([KEY], requests_per_second=None)

    def customer(**data):  # noqa: ANN003, ANN202
        return crm.state.create("customer", data, None, "user")

    with serving(crm) as url:
        transport = CrmTransport(url, KEY, site="main", pacer=Pacer(1000), sleep=lambda s: None)
        yield CustomerBinder(CrmClient(transport)), customer, crm


def test_a_bound_customer_is_found_by_its_externalid_before_any_other(world):
    binder, customer, _ = world
    mine = customer(externalId="p-1", firstName="Анна", phones=[{"number": "+79161234567"}])
    customer(firstName="Анна", phones=[{"number": "+79161234567"}])  # the same phone, unbound
    bound = binder.bound(["p-1", "syncd-7"])
    assert set(bound) == {"p-1"}
    found = binder.to_external("p-1", ["syncd-7"], Match(phones=["+79161234567"]), bound)
    assert found["id"] == mine["id"] and binder.to_internal(found) == "p-1"


def test_the_same_person_under_an_alias_is_found_and_bound_to_the_new_name(world):
    binder, customer, crm = world
    earlier = customer(externalId="syncd-7", firstName="Анна")
    bound = binder.bound(["p-1", "syncd-7"])
    found = binder.to_external("p-1", ["syncd-7"], Match(), bound)
    assert found["id"] == earlier["id"]
    binder.bind(found, "p-1")
    assert binder.to_internal(binder.bound(["p-1"])["p-1"]) == "p-1"
    assert len(crm.state.records["customer"]) == 1


def test_an_unbound_customer_with_the_phone_in_another_format_is_the_person(world):
    binder, customer, _ = world
    unbound = customer(firstName="Анна", phones=[{"number": "+7 (916) 123-45-67"}])
    found = binder.to_external("p-1", [], Match(phones=["+79161234567"]), {})
    assert found["id"] == unbound["id"] and binder.to_internal(found) is None


def test_a_customer_bound_to_another_partner_is_not_the_person(world):
    binder, customer, _ = world
    customer(externalId="p-2", phones=[{"number": "+79161234567"}], email="anna@example.ru")
    match = Match(phones=["+79161234567"], email="anna@example.ru")
    assert binder.to_external("p-1", [], match, {}) is None


def test_an_unbound_customer_with_the_e_mail_in_other_case_is_the_person(world):
    binder, customer, _ = world
    unbound = customer(firstName="Анна", email="Anna@Example.RU")
    found = binder.to_external("p-1", [], Match(email="anna@example.ru"), {})
    assert found["id"] == unbound["id"]


def test_nobody_is_none_and_no_names_ask_nothing(world):
    binder, customer, _ = world
    customer(firstName="Борис", phones=[{"number": "+79990000000"}])
    assert binder.bound([]) == {}
    assert binder.to_external("p-1", [], Match(phones=["+79161234567"]), {}) is None
