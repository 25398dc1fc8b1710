"""items.yaml: CRM offers and stores for 1C items and warehouses, with file:line problems."""

from __future__ import annotations

import pytest

from syncd.mappings.items import load_items
from syncd.mappings.load import MappingError
from tests.support.paths import ROOT

ITEM = "6f3b5a1e-2c4d-11ee-8a8e-005056b1a0c1"
RED = "b2c4e6f8-3d5f-11ee-8a8e-005056b1a0c1"
MAIN = "8d1d2c3b-0a9f-11ec-8a8e-005056b1a0c1"


def write(tmp_path, text: str):  # noqa: ANN001, ANN201
    path = tmp_path / "items.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_listed_items_and_stores_take_their_crm_names_others_their_ref_keys(tmp_path):
    names = load_items(
        write(
            tmp_path,
            f"items:\n  - {{item: {ITEM}, offer: A-17}}\n"
            f"  - {{item: {ITEM}, characteristic: {RED}, offer: A-17-red}}\n"
            f"stores:\n  - {{warehouse: {MAIN.upper()}, store: main-store}}\n"
            "  - {warehouse_code: '000000002', store: shop}\n",
        )
    )
    assert names.offer_of(ITEM.upper(), None) == "A-17"
    assert names.offer_of(ITEM, RED) == "A-17-red"
    assert names.offer_of(ITEM, MAIN) == "A-17"  # any other characteristic: the item's
    assert names.offer_of(MAIN, RED) == f"{MAIN}#{RED}"  # not listed: by its Ref_Keys
    assert names.store_of(MAIN) == "main-store"
    assert names.store_of(RED, "000000002") == "shop"
    assert names.store_of(RED, "000000009") is None  # never guessed
    assert names.needs_codes


def test_skip_leaves_unlisted_items_out(tmp_path):
    names = load_items(
        write(tmp_path, f"unmapped_items: skip\nitems: [{{item: {ITEM}, offer: A}}]\n")
    )
    assert names.offer_of(ITEM, None) == "A" and names.offer_of(MAIN, None) is None


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("items:\n  - {item: not-a-guid, offer: A}\n", ":2:"),
        (f"items:\n  - {{item: {ITEM}, offer: A}}\n  - {{item: {ITEM}, offer: B}}\n", ":3:"),
        ("stores:\n  - {store: main}\n", ":2:"),
        ("unmapped_items: guess\n", ":1:"),
    ],
)
def test_a_problem_names_the_file_and_line(tmp_path, text, where):
    with pytest.raises(MappingError) as bad:
        load_items(write(tmp_path, text))
    assert f"items.yaml{where}" in str(bad.value)


def test_the_shipped_file_reads():
    assert (
        load_items(ROOT / "mappings" / "items.yaml").store_of(MAIN, "00000000001") == "main-store"
    )
