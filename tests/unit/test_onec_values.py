"""1C OData literals, value reading and error mapping."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest

from syncd.connectors.onec.errors import (
    ErpAccessDenied,
    ErpBusinessRefusal,
    ErpNotFound,
    ErpRequestError,
    ErpUnavailable,
    error_for,
)
from syncd.connectors.onec.values import eq, field, literal, query, read_value
from syncd.errors import PermanentError, TransientError

MSK = ZoneInfo("Europe/Moscow")


def test_literals_follow_odata_v3():
    key = uuid.UUID("8d1d7287-1111-2222-3333-444455556666")
    assert literal(key) == "guid'8d1d7287-1111-2222-3333-444455556666'"
    assert literal(datetime(2026, 11, 23, 10, 5, 7, 999)) == "datetime'2026-11-23T10:05:07'"
    assert literal("O'Brien") == "'O''Brien'"
    assert literal(True) == "true" and literal(None) == "null" and literal(12) == "12"


def test_an_aware_time_is_written_in_the_erp_zone():
    utc = datetime(2026, 11, 23, 7, 0, tzinfo=ZoneInfo("UTC"))
    assert literal(utc, MSK) == "datetime'2026-11-23T10:00:00'"
    with pytest.raises(ValueError):
        literal(utc)


def test_a_value_cannot_break_out_of_its_filter():
    tricky = "x' or Posted eq true or Номер eq 'y & $top=1 #%/"
    flt = eq("Номер", tricky)
    assert flt == "Номер eq 'x'' or Posted eq true or Номер eq ''y & $top=1 #%/'"
    encoded = query({"$filter": flt, "$format": "json"})
    assert encoded.count("&") == 1 and "#" not in encoded and " " not in encoded
    assert unquote(encoded.split("&")[0][len("$filter=") :]) == flt
    assert "%D0%9D%D0%BE%D0%BC%D0%B5%D1%80" in encoded  # Номер, UTF-8


def test_field_names_are_only_names():
    assert field("Контрагент/ИНН") == "Контрагент/ИНН"
    for bad in ("Номер eq 1", "a'b", "x)", "1abc", ""):
        with pytest.raises(ValueError):
            field(bad)


def test_values_read_back_by_their_metadata_type():
    assert read_value("9007199254740993", "Edm.Int64", MSK) == 9007199254740993
    assert read_value("1500.50", "Edm.Decimal", MSK) == Decimal("1500.50")
    assert read_value("0001-01-01T00:00:00", "Edm.DateTime", MSK) is None
    assert read_value("2026-11-23T10:00:00", "Edm.DateTime", MSK) == datetime(
        2026, 11, 23, 10, tzinfo=MSK
    )
    assert read_value("00000000-0000-0000-0000-000000000000", "Edm.Guid", MSK) is None
    assert read_value("КОбеспечению", "Edm.String", MSK) == "КОбеспечению"


@pytest.mark.parametrize(
    ("status", "body", "content_type", "kind"),
    [
        (
            400,
            {"odata.error": {"code": "14", "message": {"value": "syntax"}}},
            "json",
            ErpRequestError,
        ),
        (404, {"odata.error": {"code": "9", "message": {"value": "no"}}}, "json", ErpNotFound),
        (401, None, "text/html", ErpAccessDenied),
        (
            500,
            {"odata.error": {"code": "-1", "message": {"value": "Ошибка при проведении"}}},
            "json",
            ErpBusinessRefusal,
        ),
        (500, {"odata.error": {"code": "2", "message": {"value": "x"}}}, "json", ErpUnavailable),
        (200, None, "text/html", ErpUnavailable),
        (503, None, "text/plain", ErpUnavailable),
    ],
)
def test_errors_map_to_retry_or_refusal(status, body, content_type, kind):
    error = error_for(status, body, content_type)
    assert isinstance(error, kind)
    if kind in (ErpBusinessRefusal, ErpRequestError, ErpNotFound, ErpAccessDenied):
        assert isinstance(error, PermanentError)
    else:
        assert isinstance(error, TransientError)


def test_a_business_refusal_names_its_code_and_message():
    error = error_for(
        500,
        {
            "odata.error": {
                "code": "-1",
                "message": {"lang": "ru", "value": "Не удалось провести документ"},
            }
        },
        "application/json",
    )
    assert "code -1 (application error)" in str(error)
    assert "Не удалось провести документ" in str(error)


def test_every_kind_of_value_has_its_literal_and_anything_else_is_refused():
    assert literal(False) == "false" and literal(1.5) == "1.5"
    assert literal(Decimal("1.50")) == "1.50" and literal(0.1) == "0.1"
    with pytest.raises(TypeError, match="cannot write a object into an OData literal"):
        literal(object())
    aware = datetime(2026, 11, 23, 7, 0, tzinfo=ZoneInfo("UTC"))
    with pytest.raises(ValueError, match="needs the ERP time zone"):
        literal(aware)
    assert eq("Date", aware, MSK) == "Date eq datetime'2026-11-23T10:00:00'"


def test_a_bad_property_name_is_named_in_the_error():
    with pytest.raises(ValueError, match=r"not a property name: 'a b'"):
        field("a b")


def test_a_query_leaves_out_empty_options_writes_literals_and_keeps_odata_punctuation():
    assert query({"$skip": None, "$top": 5, "flag": True}) == "$top=5&flag=true"
    assert query({"$filter": "x eq 'a(b),c:d*'"}) == "$filter=x%20eq%20'a(b),c:d*'"
    assert query({"$filter": "a/b eq 1"}) == "$filter=a%2Fb%20eq%201"


@pytest.mark.parametrize("edm", ["Edm.Decimal", "Edm.Double", "Edm.Single"])
def test_fractions_of_every_edm_kind_read_back_as_decimal(edm):
    value = read_value("1.25", edm, MSK)
    assert value == Decimal("1.25") and isinstance(value, Decimal)
