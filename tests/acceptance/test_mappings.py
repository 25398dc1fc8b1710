"""The mapping files: schema, file:line errors, checks against both sandboxes, preview."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from syncd.mappings.load import MappingError, load_mappings
from syncd.mappings.model import write_schemas
from syncd.mappings.transforms import phone_e164
from tests.support.daemon import ROOT, syncd
from tests.support.e2e import NO_ERP, both_sandboxes, e2e_env, order_config, unreachable_env


def copy_mappings(tmp_path: Path) -> Path:
    folder = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_the_shipped_schemas_are_the_ones_the_models_give(tmp_path):
    for fresh in write_schemas(tmp_path):
        shipped = ROOT / "mappings" / "schema" / fresh.name
        assert json.loads(shipped.read_text()) == json.loads(fresh.read_text()), fresh.name
    for name in ("orders", "statuses", "customers"):
        first = (ROOT / "mappings" / f"{name}.yaml").read_text().splitlines()[0]
        assert first == f"# yaml-language-server: $schema=schema/{name}.schema.json"


def test_a_wrong_value_is_reported_at_its_line_with_what_was_expected(tmp_path):
    folder = copy_mappings(tmp_path)
    edit(folder / "orders.yaml", "    owner: crm", "    owner: crmm")
    with pytest.raises(MappingError) as raised:
        load_mappings(folder)
    text = str(raised.value)
    line = line_of(folder / "orders.yaml", "owner: crmm")
    assert f"orders.yaml:{line}:5: fields[4].owner: expected one of erp, crm, none" in text
    assert "got 'crmm'" in text


def test_a_wrong_indentation_is_reported_with_line_and_column(tmp_path):
    folder = copy_mappings(tmp_path)
    edit(folder / "statuses.yaml", "  client-confirmed: agreed", "    client-confirmed: agreed")
    with pytest.raises(MappingError) as raised:
        load_mappings(folder)
    line = line_of(folder / "statuses.yaml", "    client-confirmed: agreed")
    assert f"statuses.yaml:{line}:" in str(raised.value) and "not valid YAML" in str(raised.value)


def test_a_stage_that_is_not_declared_is_refused(tmp_path):
    folder = copy_mappings(tmp_path)
    edit(folder / "statuses.yaml", "  delivered: delivered", "  delivered: deliverd")
    with pytest.raises(MappingError, match="stage 'deliverd' is not in stages"):
        load_mappings(folder)


def test_phones_become_e164_and_garbage_is_dropped():
    assert phone_e164("8 (916) 123-45-67") == "+79161234567"
    assert phone_e164("+7 916 123 45 67") == "+79161234567"
    assert phone_e164("не звонить") is None and phone_e164("") is None


def validate(tmp_path, folder, erp, erp_url, crm_url):  # noqa: ANN001
    config = order_config(tmp_path, f"sqlite:///{tmp_path}/v.db", erp)
    data = yaml.safe_load(config.read_text())
    data["mappings_dir"] = str(folder)
    config.write_text(yaml.safe_dump(data, allow_unicode=True))
    return syncd("mappings", "validate", "--config", str(config), env=e2e_env(erp_url, crm_url))


def test_validate_checks_against_1c_metadata_and_the_crm_statuses(tmp_path):
    folder = copy_mappings(tmp_path)
    with both_sandboxes(orders=1) as (erp, erp_url, crm, crm_url):
        good = validate(tmp_path, folder, erp, erp_url, crm_url)
        edit(folder / "orders.yaml", "  - erp: АдресДоставки", "  - erp: АдресДоставкм")
        edit(
            folder / "statuses.yaml",
            "  complete: complete\n",
            "  complete: complete\n  compleet: complete\n",
        )
        bad = validate(tmp_path, folder, erp, erp_url, crm_url)
    assert good.returncode == 0, good.stderr
    assert "checked against 1C's $metadata" in good.stdout and "CRM" in good.stdout
    assert bad.returncode == 1
    field_line = line_of(folder / "orders.yaml", "АдресДоставкм")
    status_line = line_of(folder / "statuses.yaml", "compleet")
    assert f"orders.yaml:{field_line}:" in bad.stderr and "АдресДоставки" in bad.stderr
    assert f"statuses.yaml:{status_line}:" in bad.stderr and "no status 'compleet'" in bad.stderr


def test_validate_without_the_systems_says_what_it_could_not_check(tmp_path):
    config = order_config(
        tmp_path,
        f"sqlite:///{tmp_path}/v.db",
        NO_ERP,
    )
    env = unreachable_env()
    done = syncd("mappings", "validate", "--config", str(config), env=env)
    assert done.returncode == 0, done.stderr
    assert "not checked against 1C" in done.stdout and "valid" in done.stdout


def test_preview_shows_the_crm_order_syncd_would_write(tmp_path):
    with both_sandboxes(orders=1) as (erp, erp_url, crm, crm_url):
        config = order_config(tmp_path, f"sqlite:///{tmp_path}/p.db", erp)
        number = erp.state.rows("Document_ЗаказКлиента")[0]["Number"]
        done = syncd(
            "mappings",
            "preview",
            "--erp-order",
            number,
            "--config",
            str(config),
            env=e2e_env(erp_url, crm_url),
        )
    assert done.returncode == 0, done.stderr
    assert "not in the CRM yet" in done.stdout and f'"number": "{number}"' in done.stdout
    assert '"status": "new"' in done.stdout


def test_preview_takes_the_bare_number_and_says_how_1c_numbers_orders(tmp_path):
    with both_sandboxes(orders=1) as (erp, erp_url, crm, crm_url):
        config = order_config(tmp_path, f"sqlite:///{tmp_path}/p.db", erp)
        number = erp.state.rows("Document_ЗаказКлиента")[0]["Number"]  # ЗК-00000001

        def preview(order: str):  # noqa: ANN202
            return syncd("mappings", "preview", "--erp-order", order, "--config", str(config),
                         env=e2e_env(erp_url, crm_url))  # fmt: skip

        bare = preview(str(int(number.rsplit("-", 1)[-1])))
        missing = preview("99999")
    assert bare.returncode == 0, bare.stderr
    assert f'"number": "{number}"' in bare.stdout
    assert missing.returncode == 1 and f"1C numbers them like '{number}'" in missing.stderr


@pytest.mark.slow
def test_a_reload_with_a_broken_mapping_keeps_the_running_mappings(tmp_path):
    import signal

    from tests.conftest import wait_until
    from tests.support.daemon import logged, start_daemon, stop
    from tests.support.e2e import crm_order

    folder = copy_mappings(tmp_path)
    with both_sandboxes(orders=1) as (erp, erp_url, crm, crm_url):
        config = order_config(tmp_path, f"sqlite:///{tmp_path}/r.db", erp)
        data = yaml.safe_load(config.read_text())
        data["mappings_dir"] = str(folder)
        config.write_text(yaml.safe_dump(data, allow_unicode=True))
        daemon = start_daemon(config, env=e2e_env(erp_url, crm_url))
        log = config.with_suffix(".log")
        try:
            first = erp.state.rows("Document_ЗаказКлиента")[0]["Ref_Key"]
            wait_until(lambda: crm_order(crm, first), what="the first order in the CRM")
            edit(folder / "orders.yaml", "    owner: crm", "    owner: crmm")
            daemon.send_signal(signal.SIGHUP)
            refused = wait_until(
                lambda: logged(log, "reload refused"), what="the refused reload in the log"
            )
            line = line_of(folder / "orders.yaml", "owner: crmm")
            assert f"orders.yaml:{line}:5: fields[4].owner" in refused["msg"]
            # still running on the mappings it had: a new site order still reaches the CRM
            new = erp.trade.new_site_order(
                erp.state.rows("Catalog_Партнеры")[0]["Ref_Key"],
                [(erp.state.rows("Catalog_Номенклатура")[0]["Ref_Key"], 1, 100.0)],
            )
            created = wait_until(lambda: crm_order(crm, new["Ref_Key"]), what="the new order")
            assert created["status"] == "new"
        finally:
            stop(daemon)


def test_validate_checks_items_yaml_too(tmp_path):
    folder = copy_mappings(tmp_path)
    edit(folder / "items.yaml", "unmapped_items: ref_key", "unmapped_items: guess")
    done = syncd("mappings", "validate", "--dir", str(folder), "--offline", env=unreachable_env())
    assert done.returncode == 1
    line = line_of(folder / "items.yaml", "unmapped_items: guess")
    assert f"items.yaml:{line}:" in done.stderr and "unmapped_items" in done.stderr
