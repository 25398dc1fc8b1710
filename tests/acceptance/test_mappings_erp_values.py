"""The 1C values the status map names: checked against what 1C sends, since a real
$metadata does not publish configuration enums — and the checks say what they could not check."""

from __future__ import annotations

from pathlib import Path

import yaml

from syncd.connectors.onec.metadata import Metadata
from syncd.engine.sourcing import run_source
from syncd.mappings.check import check_erp_values
from syncd.mappings.load import load_mappings
from syncd.mappings.observed import Observed
from syncd.store import Store, leases
from syncd_sandbox.erp_schema import metadata_xml
from tests.acceptance.test_mappings import copy_mappings, edit, line_of
from tests.support.daemon import ROOT, parts_of, syncd
from tests.support.e2e import both_sandboxes, e2e_env, order_config
from tests.support.paths import FIXTURES

ORDERS, STATES = "Document_ЗаказКлиента", "InformationRegister_СостоянияЗаказовКлиентов"
FIXTURE_META = FIXTURES / "onec_metadata.xml"


def order(ref: str, status: str) -> dict:
    return {"set": ORDERS, "key": {"Ref_Key": ref}, "data": {"Ref_Key": ref, "Статус": status}}


def test_an_enum_the_publication_does_not_list_is_said_to_be_unchecked():
    problems, notes = check_erp_values(
        load_mappings(ROOT / "mappings"), Metadata.parse(metadata_xml()), None
    )
    assert problems == []
    assert (
        "enum СтатусыЗаказовКлиентов is not published in $metadata: the values of "
        "statuses.yaml erp_statuses were not checked (no Document_ЗаказКлиента read yet "
        "to check them against)"
    ) in notes
    assert any(n.startswith("enum СостоянияЗаказовКлиентов is not published") for n in notes)


def test_values_are_checked_against_the_orders_read_instead(tmp_path):
    folder = copy_mappings(tmp_path)
    edit(folder / "statuses.yaml", "  КОбеспечению: agreed\n", "  КОбеспечениюю: agreed\n")
    payloads = [order("a", "КОбеспечению"), order("b", "КОбеспечению"), order("c", "Закрыт")]
    payloads.append(order("a", "НеСогласован"))  # older news of "a": its newest value counts
    problems, notes = check_erp_values(
        load_mappings(folder), Metadata.parse(metadata_xml()), Observed.of(payloads)
    )
    assert (
        "enum СтатусыЗаказовКлиентов is not published in $metadata: its values were not "
        "checked; they are checked against the 3 Document_ЗаказКлиента read instead"
    ) in notes
    (problem,) = [str(p) for p in problems]
    assert f"statuses.yaml:{line_of(folder / 'statuses.yaml', 'erp_statuses:')}" in problem
    assert "1C sends Статус 'КОбеспечению' (2 of the 3 Document_ЗаказКлиента read)" in problem
    assert (
        "statuses.yaml erp_statuses: 'КОбеспечениюю' was not seen in the 3 Document_ЗаказКлиента"
        " read (did you mean 'КОбеспечению'?)"
    ) in notes
    assert "statuses.yaml erp_statuses: 'НеСогласован' was not seen" in "\n".join(notes)


def test_a_1c_value_a_code_map_does_not_list_is_said_to_become_the_default():
    payloads = [order("a", "КОбеспечению"), order("b", "КОбеспечению")]
    payloads[0]["data"]["СпособДоставки"] = "Курьером"
    payloads[1]["data"]["СпособДоставки"] = "Самовывоз"
    _, notes = check_erp_values(
        load_mappings(ROOT / "mappings"), Metadata.parse(metadata_xml()), Observed.of(payloads)
    )
    assert (
        "orders.yaml fields[2] (СпособДоставки): 1C sends 'Курьером' (1 of the 2 "
        "Document_ЗаказКлиента read), which the code map does not list: it becomes 'courier' "
        "in the CRM"
    ) in notes
    assert not any("'Самовывоз'" in n for n in notes)


def test_where_a_base_publishes_the_enum_its_members_are_used(tmp_path):
    folder = copy_mappings(tmp_path)
    edit(folder / "statuses.yaml", "  КОтгрузке: assembling\n", "  КОтгрузкe: assembling\n")
    problems, notes = check_erp_values(
        load_mappings(folder), Metadata.parse(FIXTURE_META.read_bytes()), None
    )
    assert [p.message for p in problems] == [
        "'КОтгрузкe' is not a value of 1C's СтатусыЗаказовКлиентов: "
        "НеСогласован, КОбеспечению, КОтгрузке, Закрыт"
    ]
    assert not any("СтатусыЗаказовКлиентов" in n for n in notes)


def test_validate_learns_the_values_from_the_store_and_fails_on_one_it_cannot_map(tmp_path):
    folder = copy_mappings(tmp_path)
    db = f"sqlite:///{tmp_path}/v.db"
    with both_sandboxes(orders=3) as (erp, erp_url, crm, crm_url):
        config = order_config(tmp_path, db, erp)
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace(str(ROOT / "mappings"), str(folder)), encoding="utf-8")
        env = e2e_env(erp_url, crm_url)
        before = syncd("mappings", "validate", "--config", str(config), env=env)

        erp.trade.manager_edit(erp.state.rows(ORDERS)[0]["Ref_Key"], {"Статус": "КОтгрузке"})
        edit(folder / "statuses.yaml", "  КОтгрузке: assembling\n", "")
        store = Store.open(db)
        store.upgrade()
        (tmp_path / "p").mkdir()
        parts = parts_of(
            tmp_path / "p",
            sources=[s for s in _sources(config) if s["name"] == "erp_changes"],
            extra={"erp": {"requests_per_second": 1000}, "flows": [], "sinks": {}},
            env=env,
        )
        with store.begin() as conn:
            lease = leases.acquire(conn, "source:erp_changes", "test", ttl=60)
        assert run_source(store, parts.sources["erp_changes"], lease).ok
        store.dispose()
        after = syncd("mappings", "validate", "--config", str(config), env=env)
    assert before.returncode == 0, before.stderr
    assert "enum СтатусыЗаказовКлиентов is not published in $metadata" in before.stdout
    assert "no Document_ЗаказКлиента read yet" in before.stdout
    assert after.returncode == 1, after.stdout
    assert "checked against the 3 Document_ЗаказКлиента read instead" in after.stdout
    assert "1C sends Статус 'КОтгрузке' (1 of the 3 Document_ЗаказКлиента read)" in after.stderr


def _sources(config: Path) -> list[dict]:
    return yaml.safe_load(config.read_text(encoding="utf-8"))["sources"]
