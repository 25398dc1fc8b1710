"""The store keeps the bindings' facts deflated and reads them back, on both databases."""

from __future__ import annotations

from sqlalchemy import select

from syncd.store import bindings
from syncd.store.schema import bindings as bindings_table
from tests.unit.test_facts_codec import ORDER, canonical


def test_the_store_keeps_facts_packed_and_reads_them_back(store):
    ref = ("erp", "order", "R-1")
    with store.begin() as conn:
        bindings.remember(conn, {ref: ORDER, ("erp", "order", "R-2"): {"a": 1}})
    with store.read() as conn:
        raw = dict(conn.execute(select(bindings_table.c.external_id, bindings_table.c.facts)).all())
        assert bindings.get(conn, *ref).facts == ORDER
        assert bindings.get(conn, "erp", "order", "R-2").facts == {"a": 1}
    assert raw["R-1"].startswith("z1:") and len(raw["R-1"]) < 0.4 * len(canonical(ORDER).encode())
    assert raw["R-2"] == '{"a":1}'  # would not shrink
