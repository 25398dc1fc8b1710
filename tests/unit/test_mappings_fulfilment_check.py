"""`syncd mappings validate` on the order's fulfilment: the delivery register, the payment
state and the online-payments field, against $metadata and against what 1C sent."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

from syncd.connectors.onec.metadata import Metadata
from syncd.mappings.check import check_against_erp, check_erp_values
from syncd.mappings.load import load_mappings
from syncd.mappings.observed import Observed
from syncd_sandbox.erp_schema import metadata_xml
from tests.support.paths import FIXTURES, ROOT

DELIVERY = "InformationRegister_СтатусыСборкиИДоставки"
REAL = Metadata.parse((FIXTURES / "onec" / "metadata.xml").read_bytes())
SANDBOX = Metadata.parse(metadata_xml())


def mappings(tmp_path: Path, orders_tail: str = "", replace: tuple[str, str] | None = None):  # noqa: ANN201
    folder = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", folder)
    orders = folder / "orders.yaml"
    text = orders.read_text(encoding="utf-8")
    if replace:
        assert replace[0] in text
        text = text.replace(*replace)
    orders.write_text(text + orders_tail, encoding="utf-8")
    return load_mappings(folder)


def test_the_shipped_mappings_fit_the_real_shape_and_the_sandbox(tmp_path):
    m = mappings(tmp_path)
    assert check_against_erp(m, REAL) == []
    assert check_against_erp(m, SANDBOX) == []


def test_a_base_without_the_delivery_register_is_told_to_set_it_null(tmp_path):
    m = mappings(tmp_path, replace=(DELIVERY, "InformationRegister_СтатусыДоставки"))
    (problem,) = check_against_erp(m, REAL)
    assert "orders.yaml:" in str(problem) and "delivery_set" in str(problem)
    assert "publishes no 'InformationRegister_СтатусыДоставки'" in str(problem)


def test_a_misspelt_payment_attribute_is_found_at_its_line(tmp_path):
    m = mappings(tmp_path, replace=("  percent: ПроцентОплаты", "  percent: ПроцентОплатыы"))
    (problem,) = check_against_erp(m, REAL)
    assert "payment_state.percent" in str(problem) and "ПроцентОплатыы" in str(problem)


def test_the_online_payments_field_must_exist_in_the_order(tmp_path):
    tail = "\npayments_to_erp:\n  field: ОплаченоОнлайн\n"
    assert check_against_erp(mappings(tmp_path / "a", tail), SANDBOX) == []
    (problem,) = check_against_erp(mappings(tmp_path / "b", tail), REAL)  # a stock УТ has none
    assert "payments_to_erp.field" in str(problem) and "ОплаченоОнлайн" in str(problem)


def test_a_delivery_status_1c_sends_and_the_map_lacks_is_a_problem(tmp_path):
    m = mappings(tmp_path)
    observed = Observed()
    observed.objects[DELIVERY] = 12
    observed.values[(DELIVERY, "Статус")] = Counter({"Доставлен": 9, "ПередановТК": 3})
    problems, notes = check_erp_values(m, REAL, observed)
    (problem,) = [p for p in problems if "erp_delivery" in str(p)]
    assert "1C sends Статус 'ПередановТК' (3 of the 12" in str(problem)
    assert any("СтатусыСборкиИДоставки is not published" in n for n in notes)
    assert any("erp_delivery: 'Собран' was not seen" in n for n in notes)
