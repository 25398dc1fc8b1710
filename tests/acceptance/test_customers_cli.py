"""``syncd customers explain`` and ``syncd customers merge`` (report, then apply when enabled)."""

from __future__ import annotations

import json
import shutil

import yaml

from syncd.commands.customers import crm_customer_record
from syncd.identity.keys import Record
from syncd.identity.resolver import Resolver
from syncd.store import Store
from syncd_sandbox.crm_app import SandboxCrm
from tests.support.daemon import syncd, write_config
from tests.support.paths import ROOT
from tests.support.serve import serving

KEY = "cli-test-key-00000000000000"


def test_explain_shows_each_record_and_why_it_joined(tmp_path):
    config = write_config(tmp_path, f"sqlite:///{tmp_path}/e.db", sources=[])
    store = Store.open(f"sqlite:///{tmp_path}/e.db")
    store.upgrade()
    with store.begin() as conn:
        a, b = Resolver().resolve(
            conn,
            [
                Record("erp", "p-1", "Анна Иванова", phones=["+79123456789"]),
                Record("pos:msk", "R1", phones=["8 912 345 67 89"]),
            ],
        )
    store.dispose()
    done = syncd("customers", "explain", str(a.identity), "--config", str(config))
    assert done.returncode == 0, done.stderr
    told = json.loads(done.stdout)
    assert [r["id"] for r in told["records"]] == ["p-1", "R1"]
    assert told["records"][1]["why"] == ["same phone +79123456789"]
    assert syncd("customers", "explain", "999", "--config", str(config)).returncode == 1


def test_merge_reports_then_combines_only_when_enabled(tmp_path):
    crm = SandboxCrm([KEY], requests_per_second=None)
    for first, number in (
        ("Анна", "+7 (912) 345-67-89"),
        ("Анна", "89123456789"),
        ("Пётр", "+79990000000"),
    ):
        crm.state.create(
            "customer", {"firstName": first, "phones": [{"number": number}]}, None, "user"
        )
    with serving(crm) as url:
        env = {"SYNCD_CRM_URL": url, "SYNCD_CRM_API_KEY": KEY}
        config = write_config(
            tmp_path,
            f"sqlite:///{tmp_path}/m.db",
            sources=[],
            extra={"mappings_dir": str(ROOT / "mappings")},
        )
        report = syncd("customers", "merge", "--config", str(config), env=env)
        refused = syncd("customers", "merge", "--apply", "--config", str(config), env=env)
        data = yaml.safe_load(config.read_text())
        data["crm"] = {"merge_duplicates": True}
        config.write_text(yaml.safe_dump(data, allow_unicode=True))
        applied = syncd("customers", "merge", "--apply", "--config", str(config), env=env)
    assert report.returncode == 0, report.stderr
    assert "customers 2 would be combined into 1" in report.stdout
    assert refused.returncode == 2 and "merge_duplicates" in refused.stderr
    assert applied.returncode == 0, applied.stderr
    assert "customers 2 combined into 1" in applied.stdout
    assert 2 not in crm.state.records["customer"]  # merged away


def test_merge_by_the_model_reads_each_crm_customer_whole(tmp_path):
    # two CRM customers with no identifier in common (a card two digits swapped, another
    # phone) but one name, birthday and address: one person by the model; her namesake
    # with another birthday and address is not
    crm = SandboxCrm([KEY], requests_per_second=None)
    home = {"index": "620014", "city": "Екатеринбург", "street": "ул. Ленина", "building": "12"}
    anna = {"firstName": "Анна", "lastName": "Иванова", "patronymic": "Сергеевна",
            "birthday": "1985-03-07", "address": home}  # fmt: skip
    for extra in (
        {"discountCardNumber": "4276380012345678", "phones": [{"number": "+79123456789"}]},
        {"discountCardNumber": "4276380012345687", "phones": [{"number": "+79990001122"}]},
    ):
        crm.state.create("customer", {**anna, **extra}, None, "user")
    namesake = {**anna, "birthday": "1990-01-01", "address": {"city": "Москва"},
                "phones": [{"number": "+79160000000"}]}  # fmt: skip
    crm.state.create("customer", namesake, None, "user")
    mappings = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", mappings)
    with (mappings / "customers.yaml").open("a", encoding="utf-8") as f:
        f.write("\nmatching:\n  method: model\n")
    config = write_config(
        tmp_path, f"sqlite:///{tmp_path}/m.db", sources=[], extra={"mappings_dir": str(mappings)}
    )
    with serving(crm) as url:
        env = {"SYNCD_CRM_URL": url, "SYNCD_CRM_API_KEY": KEY}
        report = syncd("customers", "merge", "--config", str(config), env=env)
    assert report.returncode == 0, report.stderr
    assert "customers 2 would be combined into 1" in report.stdout
    assert "1 group(s) of duplicates among 3 CRM customers" in report.stdout


def test_a_crm_customer_as_a_record_carries_every_field_that_identifies_her():
    record = crm_customer_record(
        {
            "id": 7,
            "firstName": "Анна",
            "lastName": "Иванова",
            "patronymic": "Сергеевна",
            "birthday": "1985-03-07",
            "email": "anna@example.ru",
            "discountCardNumber": "0012",
            "phones": [{"number": "+79123456789"}, {"number": "8 916 000-00-00"}],
            "address": {
                "index": "620014",
                "city": "Екатеринбург",
                "street": "ул. Ленина",
                "building": "12",
                "flat": "5",
            },
        }  # fmt: skip
    )
    assert (record.source, record.source_id) == ("crm", "7")
    assert (record.given, record.surname, record.patronymic) == ("Анна", "Иванова", "Сергеевна")
    assert record.birth_date == "1985-03-07" and record.cards == ["0012"]
    assert record.phones == ["+79123456789", "8 916 000-00-00"]
    assert record.emails == ["anna@example.ru"]
    assert (record.street, record.house, record.postcode, record.city) == (
        "ул. Ленина", "12", "620014", "Екатеринбург")  # fmt: skip
    bare = crm_customer_record({"id": 8})
    assert bare.name == "" and bare.cards == [""] and bare.street == ""
