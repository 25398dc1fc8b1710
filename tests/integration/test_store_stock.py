"""Free stock in the store, on SQLite and PostgreSQL: exact, and written only when changed."""

from __future__ import annotations

from decimal import Decimal

from syncd.flows.order_robot import StockRows
from syncd.store import stock


def test_stock_is_kept_exactly_and_only_changes_are_written(store):
    with store.begin() as conn:
        first = stock.put(
            conn,
            [
                ("nom-1", "main", Decimal("5")),
                ("nom-1", "shop-12", Decimal("2.5")),
                ("nom-2", "main", Decimal("0")),
            ],
            now=100.0,
        )
        again = stock.put(conn, [("nom-1", "main", Decimal("5.000")), ("nom-2", "main", 1)], 200.0)
        rows = stock.rows_of(conn, ["nom-1", "nom-2", "nom-3"])
    assert first == {"nom-1", "nom-2"} and again == {"nom-2"}  # 5.000 is 5: unchanged
    assert sorted((r["offer"], r["store"], r["available"]) for r in rows) == [
        ("nom-1", "main", Decimal("5")),
        ("nom-1", "shop-12", Decimal("2.5")),
        ("nom-2", "main", Decimal("1")),
    ]
    view = StockRows(rows)
    assert view.available("nom-1", None) == Decimal("7.5")
    assert view.available("nom-1", "shop-12") == Decimal("2.5")
    assert view.available("nom-1", "elsewhere") == 0
    assert view.available("nom-3", None) is None


def test_many_offers_are_read_and_written_in_chunks(store):
    many = [(f"nom-{i:05d}", "main", Decimal(i)) for i in range(1203)]
    with store.begin() as conn:
        assert len(stock.put(conn, many, now=1.0)) == 1203
        rows = stock.rows_of(conn, [offer for offer, _, _ in many])
    assert {r["offer"]: r["available"] for r in rows} == {o: a for o, _, a in many}
