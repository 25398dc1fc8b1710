"""``syncd check`` against the two sandboxes on loopback: every ✓, and each ✗ with its fix."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import yaml
from click.testing import CliRunner

from cli import main
from syncd.config import load_settings
from syncd.doctor.clock import ServerDate
from syncd.doctor.result import Check
from syncd.doctor.runner import run_all
from syncd.doctor.scopes import required_scopes
from syncd.store import Store
from syncd_sandbox.crm_faults import Faults
from syncd_sandbox.crm_state import DEFAULT_SCOPES, KeyAccess
from tests.support.daemon import ROOT, write_config
from tests.support.e2e import CRM_KEY, both_sandboxes, e2e_env, order_config, unreachable_env
from tests.support.erp import PASSWORD, ws_url

ROW = re.compile(r"^  (✓|✗|–)  (\S+(?: \S+)*)\s{2,}(.*)$")
ALL_CHECKS = {
    "configuration",
    "store reachable",
    "store migrated",
    "mapping files",
    "1C reachable",
    "1C credentials",
    "1C objects and fields",
    "1C exchange node (erp_changes)",
    "1C clock",
    "CRM reachable",
    "CRM API key",
    "CRM scopes",
    "CRM site access",
    "CRM statuses",
    "CRM time zone",
    "CRM clock",
    "webhook secret",
}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[SimpleNamespace]:
    """Both sandboxes, a migrated SQLite store and the demo's pipeline config pointed at them."""
    with both_sandboxes() as (erp, erp_url, crm, crm_url):
        db_url = f"sqlite:///{tmp_path / 'state' / 'syncd.db'}"
        store = Store.open(db_url)
        store.upgrade()
        store.dispose()
        config = order_config(tmp_path, db_url, erp)
        yield SimpleNamespace(
            erp=erp, crm=crm, config=config, env=e2e_env(erp_url, crm_url), db_url=db_url
        )


def doctor(world: SimpleNamespace, *args: str, **env: str) -> SimpleNamespace:
    """Run ``syncd check``; rows maps each check's name to (mark, its text with fix lines)."""
    result = CliRunner().invoke(
        main, ["check", "-c", str(world.config), *args], env={**world.env, **env}
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    rows: dict[str, tuple[str, str]] = {}
    current = None
    for line in result.output.splitlines():
        match = ROW.match(line)
        if match:
            current = match.group(2)
            rows[current] = (match.group(1), match.group(3))
        elif current and line.startswith("    "):
            mark, text = rows[current]
            rows[current] = (mark, text + "\n" + line.strip())
        else:
            current = None
    return SimpleNamespace(code=result.exit_code, output=result.output, rows=rows)


def marks(run: SimpleNamespace) -> dict[str, str]:
    return {name: mark for name, (mark, _) in run.rows.items()}


def failed(run: SimpleNamespace) -> dict[str, str]:
    return {name: text for name, (mark, text) in run.rows.items() if mark == "✗"}


def edit_config(path: Path, change) -> None:  # noqa: ANN001
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_everything_passes_against_both_sandboxes(world):
    run = doctor(world)
    assert run.code == 0, run.output
    assert marks(run) == {name: "✓" for name in ALL_CHECKS}
    assert "17 checks: 17 passed, 0 failed, 0 skipped" in run.output
    scopes = run.rows["CRM scopes"][1]
    assert "order_write" in scopes and "reference_read" in scopes
    # a real publication lists no configuration enums: the row says what it could not check
    objects = run.rows["1C objects and fields"][1]
    assert "enum СтатусыЗаказовКлиентов is not published in $metadata" in objects


def test_a_wrong_crm_key_fails_with_its_fix_and_is_never_printed(world):
    wrong = "not-the-key-7f3a9c2e5b"
    run = doctor(world, SYNCD_CRM_API_KEY=wrong)
    assert run.code == 1
    assert set(failed(run)) == {"CRM API key"}
    text = failed(run)["CRM API key"]
    assert 'Wrong "apiKey" value' in text
    assert "fix: put an active key of this account in SYNCD_CRM_API_KEY" in text
    # what depends on the key is not checked; the rest still is
    assert marks(run)["CRM scopes"] == marks(run)["CRM statuses"] == "–"
    assert marks(run)["CRM reachable"] == marks(run)["1C objects and fields"] == "✓"
    assert wrong not in run.output and PASSWORD not in run.output


def test_a_mapped_1c_field_the_base_does_not_publish_fails_at_its_line(world, tmp_path):
    mappings = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", mappings)
    orders = mappings / "orders.yaml"
    text = orders.read_text(encoding="utf-8")
    assert "  - erp: АдресДоставки\n" in text
    orders.write_text(text.replace("erp: АдресДоставки\n", "erp: АдресКурьера\n"), "utf-8")
    line = text.splitlines().index("  - erp: АдресДоставки") + 1
    edit_config(world.config, lambda c: c.update(mappings_dir=str(mappings)))

    run = doctor(world)
    assert run.code == 1
    assert set(failed(run)) == {"1C objects and fields"}
    text = failed(run)["1C objects and fields"]
    assert f"{orders}:{line}:" in text and "АдресКурьера" in text
    assert "fix: add the objects to the OData publication's composition" in text
    assert marks(run)["mapping files"] == "✓"  # the file itself is well formed


def test_a_store_behind_or_ahead_of_this_syncd_fails_with_the_command_to_run(world):
    store = Store.open(world.db_url)
    head = store.head_revision()
    with store.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0002'")
    behind = doctor(world)
    with store.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    ahead = doctor(world)
    store.dispose()

    assert behind.code == ahead.code == 1
    assert set(failed(behind)) == set(failed(ahead)) == {"store migrated"}
    assert f"at revision 0002, this syncd needs {head}" in failed(behind)["store migrated"]
    assert f"fix: run `syncd db upgrade -c {world.config}`" in failed(behind)["store migrated"]
    assert "which this syncd does not know" in failed(ahead)["store migrated"]


def test_a_store_not_created_yet_is_created_by_nobody_but_db_upgrade(world, tmp_path):
    fresh = tmp_path / "fresh" / "syncd.db"
    edit_config(world.config, lambda c: c["store"].update(url=f"sqlite:///{fresh}"))
    run = doctor(world)
    assert run.code == 1
    assert marks(run)["store reachable"] == "✓"
    assert "fix: run `syncd db upgrade" in failed(run)["store migrated"]
    assert not fresh.exists() and not fresh.parent.exists()  # the check changes nothing


def test_a_missing_scope_and_an_unreachable_site_fail(world):
    narrower = [s for s in DEFAULT_SCOPES if s != "order_write"]
    world.crm.access[CRM_KEY] = KeyAccess(
        scopes=narrower, site_access="access_selective", sites=["outlet"]
    )
    run = doctor(world, SYNCD_CRM_SITE="main")
    assert run.code == 1
    assert set(failed(run)) == {"CRM scopes", "CRM site access"}
    scopes = failed(run)["CRM scopes"]
    assert "the key lacks order_write (for flow orders_from_erp)" in scopes
    assert "fix: allow order_write for this key" in scopes
    sites = failed(run)["CRM site access"]
    assert "the key reaches outlet, not crm.site 'main'" in sites and "fix:" in sites


def test_webhooks_without_a_secret_fail(world):
    edit_config(world.config, lambda c: c["http"].pop("webhook_secret"))
    run = doctor(world)
    assert run.code == 1
    assert set(failed(run)) == {"webhook secret"}
    text = failed(run)["webhook secret"]
    assert "/webhooks/1c, /webhooks/retailcrm would answer every call with 401" in text
    assert "fix: set SYNCD_WEBHOOK_SECRET" in text


def test_clock_skew_fails_beyond_the_limit_in_either_direction(world):
    world.erp.date_skew_seconds = 95
    world.crm.date_skew_seconds = -300
    run = doctor(world)
    assert run.code == 1
    assert set(failed(run)) == {"1C clock", "CRM clock"}
    # Date has whole seconds and the request takes time: the figure is within a second or so
    ahead = re.search(r"1C's clock is about (\d+) s ahead of this host's", failed(run)["1C clock"])
    behind = re.search(r"the CRM's clock is about (\d+) s behind", failed(run)["CRM clock"])
    assert ahead and abs(int(ahead.group(1)) - 95) <= 2
    assert behind and abs(int(behind.group(1)) - 300) <= 2
    assert "fix: synchronise both clocks with NTP" in failed(run)["CRM clock"]

    relaxed = doctor(world, "--max-clock-skew", "400")
    assert relaxed.code == 0, relaxed.output


def test_an_account_in_another_zone_than_crm_timezone_fails_with_both_offsets(world):
    world.crm.state.zone = ZoneInfo("Asia/Vladivostok")  # the account writes UTC+10 dates
    run = doctor(world)  # crm.timezone is the default, Europe/Moscow
    assert run.code == 1
    assert set(failed(run)) == {"CRM time zone"}
    text = failed(run)["CRM time zone"]
    assert "the account writes its dates in UTC+10:00" in text
    assert "crm.timezone Europe/Moscow is UTC+03:00" in text and "7.0 h off" in text
    assert "fix: set crm.timezone to the zone the RetailCRM account is set to" in text

    edit_config(world.config, lambda c: c.setdefault("crm", {}).update(timezone="Asia/Vladivostok"))
    agreed = doctor(world)
    assert agreed.code == 0, agreed.output
    assert "in Asia/Vladivostok (UTC+10:00)" in agreed.rows["CRM time zone"][1]


def test_a_wrong_1c_password_and_a_missing_node_fail(world):
    edit_config(
        world.config,
        lambda c: c["sources"][0]["options"].update(node="5b1c0000-0000-0000-0000-0000000000aa"),
    )
    run = doctor(world, SYNCD_ERP_PASSWORD="not-the-password")
    assert set(failed(run)) == {"1C credentials"}  # the node waits for a login
    assert "user 'Обмен' refused: wrong user or password (401)" in failed(run)["1C credentials"]
    assert "fix: check erp.user and SYNCD_ERP_PASSWORD" in failed(run)["1C credentials"]
    assert "not-the-password" not in run.output

    run = doctor(world)
    assert set(failed(run)) == {"1C exchange node (erp_changes)"}
    text = failed(run)["1C exchange node (erp_changes)"]
    assert "has no node 5b1c0000-0000-0000-0000-0000000000aa" in text
    assert "fix: create syncd's node in the exchange plan" in text


def test_systems_nobody_answers_fail_without_stopping_the_other_checks(world):
    run = doctor(world, **unreachable_env())
    assert run.code == 1
    assert set(failed(run)) == {"1C reachable", "CRM reachable"}
    assert "connection refused" in failed(run)["1C reachable"]
    assert "fix: check crm.url" in failed(run)["CRM reachable"]
    assert marks(run)["store migrated"] == marks(run)["webhook secret"] == "✓"
    assert marks(run)["1C credentials"] == marks(run)["CRM clock"] == "–"


def test_a_mistyped_account_and_a_login_page_are_told_apart(world):
    world.crm.account_exists = False
    world.erp.html_auth_errors = True  # a refused login as an HTML page with status 200
    run = doctor(world, SYNCD_ERP_PASSWORD="not-the-password")
    assert set(failed(run)) == {"CRM reachable", "1C credentials"}
    assert "no RetailCRM account at this address" in failed(run)["CRM reachable"]
    assert "an HTML page instead of OData" in failed(run)["1C credentials"]
    assert marks(run)["1C reachable"] == "✓"


def test_a_system_that_hangs_is_given_up_after_the_timeout(world):
    world.crm.faults = Faults(timeout=1.0, timeout_seconds=2.0)
    run = doctor(world, "--timeout", "1")
    assert run.code == 1
    assert "no answer within 1 s" in failed(run)["CRM reachable"]
    assert marks(run)["store migrated"] == marks(run)["webhook secret"] == "✓"


def test_an_unreadable_configuration_is_one_failed_row(tmp_path):
    config = tmp_path / "syncd.yaml"
    config.write_text("engine:\n  tick_seconds: fast\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "-c", str(config)])
    assert result.exit_code == 1
    assert re.search(r"✗\s+configuration\s+.*syncd\.yaml:2:", result.output)
    assert "fix: correct the file at the lines named" in result.output


def test_each_check_has_a_time_limit_and_a_failing_one_stops_no_other():
    release = threading.Event()

    def broken() -> Check:
        raise RuntimeError("boom")

    plan = [
        ("hangs", lambda: Check.passed("hangs", "never") if release.wait(30) else None),
        ("raises", broken),
        ("passes", lambda: Check.passed("whatever", "fine")),
    ]
    try:
        hangs, raises, passes = run_all(plan, timeout=0.2)
    finally:
        release.set()
    assert (hangs.name, hangs.ok, hangs.detail) == ("hangs", False, "no answer within 0.2 s")
    assert "--timeout" in hangs.fix
    assert (raises.ok, raises.detail) == (False, "the check itself failed: RuntimeError: boom")
    assert (passes.name, passes.ok) == ("passes", True)


def test_scopes_follow_the_configured_parts(world):
    settings = load_settings(world.config, world.env)
    needed = required_scopes(settings)
    assert needed["order_read"] == ["source crm_orders", "flow orders_from_erp"]
    assert needed["customer_write"] == ["flow customers_from_erp", "flow orders_from_erp"]
    assert needed["reference_read"] == ["order statuses and sites"]
    assert "order_write" in needed and "store_read" not in needed


def test_a_slow_answer_never_looks_like_skew():
    # the server said 100 while our request took from 95 to 105: skew anywhere in [-5, 6)
    low, high = ServerDate(date=100.0, sent=95.0, received=105.0).bounds
    assert (low, high) == (-5.0, 6.0)


def test_only_what_the_configuration_uses_is_checked(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'syncd.db'}"
    store = Store.open(db_url)
    store.upgrade()
    store.dispose()
    (tmp_path / "feed.jsonl").touch()
    config = write_config(tmp_path, db_url)  # a feed file copied into a folder: no 1C, no CRM
    run = doctor(SimpleNamespace(config=config, env={}))
    assert run.code == 0, run.output
    assert marks(run) == {
        "configuration": "✓",
        "store reachable": "✓",
        "store migrated": "✓",
        "mapping files": "–",
        "1C": "–",
        "CRM": "–",
        "webhook secret": "✓",  # the feed source takes pushes at /webhooks/feed
    }
    assert "/webhooks/feed" in run.rows["webhook secret"][1]


def over_soap(world) -> None:  # noqa: ANN001
    """The world's config with 1C through the SyncdExchange web service alone (as
    ``syncd demo --erp-via soap`` makes it)."""
    from syncd_sandbox.demo.runner import over_soap as soap_config

    sandbox = SimpleNamespace(syncd_ws_url=ws_url(world.env["SYNCD_ERP_ODATA_URL"]))
    edit_config(world.config, lambda c: c.update(soap_config(c, world.config.parent, sandbox)))
    world.env = {k: v for k, v in world.env.items() if k != "SYNCD_ERP_ODATA_URL"}


def test_with_1c_through_its_web_service_alone_the_service_and_node_are_checked(world):
    over_soap(world)
    run = doctor(world)
    assert run.code == 0, run.output
    names = set(marks(run))
    assert {"1C web service", "1C exchange node (erp_changes)"} <= names
    assert not names & {"1C reachable", "1C credentials", "1C objects and fields"}
    service = run.rows["1C web service"][1]
    assert "/ws/SyncdExchange.1cws offers" in service and "SetOrderStatus" in service
    assert "GetObject" in service and "SelectChanges" in service


def test_a_web_service_without_an_operation_a_wrong_password_and_node_each_fail(world):
    over_soap(world)
    edit_config(world.config, lambda c: c["erp"]["soap"].update(operations={"get_object": "Дай"}))
    run = doctor(world)
    text = failed(run)["1C web service"]
    assert "lacks Дай (get_object, for sink erp)" in text and "offers Describe, GetObject" in text
    assert "fix: publish the SyncdExchange web service" in text

    run = doctor(world, SYNCD_ERP_PASSWORD="not-the-password")
    assert "refused syncd's user" in failed(run)["1C web service"]
    assert "not-the-password" not in run.output

    edit_config(world.config, lambda c: c["sources"][0]["options"].update(node="нет"))
    run = doctor(world)
    text = failed(run)["1C exchange node (erp_changes)"]
    assert "Узел нет плана обмена syncd не найден" in text
