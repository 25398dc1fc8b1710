"""Property: any string round-trips through a $filter equality and matches only itself."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from syncd.connectors.onec.values import eq
from tests.support.erp import erp_client, erp_sandbox

WAREHOUSES = "Catalog_Склады"
TRICKY = ["'", '"', "&", "#", "%", "/", "?", "+", "=", "(", ")", "$", ",", " ", "\\"]
PIECES = ["''", "' or '1' eq '1", "%27", "%00", "%2F", "Склад №1", "&$top=1"]
texts = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=4),
        st.text(alphabet=st.sampled_from(TRICKY), max_size=4),
        st.text(alphabet=st.characters(min_codepoint=0x0400, max_codepoint=0x04FF), max_size=4),
        st.sampled_from(PIECES),
    ),
    max_size=8,
).map("".join)


@pytest.fixture(scope="module")
def sandbox():
    with erp_sandbox(seed=False) as (app, url):
        yield app, erp_client(url)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=texts)
@example(value="O'Brien & Sons #1 100% a/b")
@example(value="")
def test_any_string_matches_only_itself(sandbox, value):
    app, client = sandbox
    mine = app.state.create(WAREHOUSES, {"Description": "probe", "Адрес": value})
    # near misses that a badly quoted or encoded literal would also match
    for other in {value + "x", value[:-1], "'" + value, value.replace("'", "")} - {value}:
        app.state.create(WAREHOUSES, {"Description": "decoy", "Адрес": other})
    found = client.get_json(WAREHOUSES, {"$filter": eq("Адрес", value)})["value"]
    assert mine["Ref_Key"] in {row["Ref_Key"] for row in found}
    assert {row["Адрес"] for row in found} == {value}
