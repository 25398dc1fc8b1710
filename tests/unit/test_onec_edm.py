"""1C values typed by $metadata: the wire's form never decides a type."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncd.connectors.onec.changes import EntryReader
from syncd.connectors.onec.edm import EMPTY_DATE, EMPTY_GUID, BadValue, typed
from syncd.connectors.onec.metadata import Metadata
from syncd_sandbox.erp_schema import metadata_xml

ORDERS = "Document_ЗаказКлиента"
REF = "8d1d7287-6240-11f1-9296-08002761f3c5"


@pytest.mark.parametrize(
    ("raw", "edm", "expected"),
    [
        ("false", "Edm.Boolean", False),  # Atom text: bool("false") would be True
        ("true", "Edm.Boolean", True),
        (" TRUE ", "Edm.Boolean", True),
        ("0", "Edm.Boolean", False),
        (False, "Edm.Boolean", False),  # JSON
        ("1", "Edm.Int64", 1),  # Atom text and 1C's JSON string alike
        (1, "Edm.Int32", 1),
        ("-7", "Edm.Int16", -7),
        (2.0, "Edm.Int64", 2),
        ("255", "Edm.Byte", 255),
        ("20000", "Edm.Double", 20000.0),
        (20000, "Edm.Double", 20000.0),
        ("3333.33", "Edm.Decimal", 3333.33),
        ("1e3", "Edm.Single", 1000.0),
        ("2026-06-07T10:14:42", "Edm.DateTime", "2026-06-07T10:14:42"),
        ("2026-06-07T10:14:42.000", "Edm.DateTime", "2026-06-07T10:14:42"),
        ("", "Edm.DateTime", EMPTY_DATE),
        (REF.upper(), "Edm.Guid", REF),
        ("", "Edm.Guid", EMPTY_GUID),
        ("AAAAAAAAAAI=", "Edm.Binary", "AAAAAAAAAAI="),
        ("КОбеспечению", "Edm.String", "КОбеспечению"),
        ("", "Edm.String", ""),
        (True, "Edm.String", "true"),
        (None, "Edm.Boolean", None),
    ],
)
def test_every_type_has_one_canonical_form(raw, edm, expected):
    value = typed(raw, edm)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("raw", "edm"),
    [
        ("да", "Edm.Boolean"),
        ("", "Edm.Boolean"),
        (1, "Edm.Boolean"),
        ("1.5", "Edm.Int64"),
        ("", "Edm.Int32"),
        (True, "Edm.Int16"),
        ("256", "Edm.Byte"),
        ("40000", "Edm.Int16"),
        ("двадцать", "Edm.Double"),
        ("nan", "Edm.Double"),
        (False, "Edm.Decimal"),
        ("07.06.2026", "Edm.DateTime"),
        ("2026-06-07T10:14:42+03:00", "Edm.DateTime"),
        ("2026-06-07", "Edm.DateTime"),
        ("not-a-guid", "Edm.Guid"),
        (7, "Edm.Guid"),
        ("%%%", "Edm.Binary"),
    ],
)
def test_a_value_that_does_not_convert_is_refused_with_the_field_named(raw, edm):
    with pytest.raises(BadValue, match=f"field Отменено: expected {edm}, got "):
        typed(raw, edm, "Отменено")


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_int64_reads_the_same_from_json_and_from_atom_text(number):
    assert typed(number, "Edm.Int64") == typed(str(number), "Edm.Int64") == number


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_double_reads_the_same_from_json_and_from_atom_text(number):
    assert typed(number, "Edm.Double") == typed(repr(number), "Edm.Double")


def test_tabular_rows_are_typed_and_a_bad_row_names_its_place():
    orders = Metadata.parse(metadata_xml()).entity(ORDERS)
    raw = {
        "Ref_Key": REF,
        "Posted": "false",
        "Товары": [
            {"LineNumber": "1", "Отменено": "false", "Количество": "2"},
            {"LineNumber": "2", "Отменено": "true", "Количество": "1"},
        ],
    }
    data = orders.normalize(raw)
    assert data["Posted"] is False
    assert [line["Отменено"] for line in data["Товары"]] == [False, True]
    assert data["Товары"][0] == {"LineNumber": 1, "Отменено": False, "Количество": 2.0}
    raw["Товары"][1]["Отменено"] = "нет"
    with pytest.raises(BadValue, match=r"field Товары\[2\]\.Отменено: expected Edm.Boolean"):
        orders.normalize(raw)


def test_what_metadata_does_not_declare_is_not_data_and_rows_lose_the_owner_key():
    orders = Metadata.parse(metadata_xml()).entity(ORDERS)
    data = orders.normalize(
        {
            "odata.metadata": "http://erp/odata/standard.odata/$metadata#Document_ЗаказКлиента",
            "Ref_Key": REF,
            "Партнер@navigationLinkUrl": f"{ORDERS}(guid'{REF}')/Партнер",
            "Статус____Presentation": "К выполнению / В резерве",
            "Товары": [{"Ref_Key": REF, "LineNumber": "1"}],
        }
    )
    assert data == {"Ref_Key": REF, "Товары": [{"LineNumber": 1}]}


def test_an_unreadable_entry_is_rejected_naming_the_object_and_the_field_and_the_rest_go_on():
    meta = Metadata.parse(metadata_xml())
    reader = EntryReader("erp", "erp_changes", {ORDERS: "order"}, meta)
    good = {"Ref_Key": REF, "DataVersion": "AAAAAAAAAAE=", "Posted": "true"}
    bad = {**good, "Ref_Key": REF.replace("8d1d", "9e2e"), "Posted": "ложь"}
    events, rejected = reader.events(
        [(ORDERS, None, bad), (ORDERS, None, good)], "message:7", "SelectChanges message 7"
    )
    assert [e.payload["data"]["Posted"] for e in events] == [True]
    (reject,) = rejected
    assert reject.subject == f"SelectChanges message 7, entry 1: {ORDERS} {bad['Ref_Key']}"
    assert reject.error == "unreadable: field Posted: expected Edm.Boolean, got 'ложь'"
