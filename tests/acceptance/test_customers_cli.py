"""``syncd customers explain`` and ``syncd customers merge`` (report, then apply when enabled)."""

from __future__ import annotations

import json

import yaml

from syncd.identity.keys import Record
from syncd.identity.resolver import Resolver
from syncd.store import Store
from syncd_sandbox.crm_app import SandboxCrm
from tests.support.daemon import syncd, write_config
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
        config = write_config(tmp_path, f"sqlite:///{tmp_path}/m.db", sources=[])
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
