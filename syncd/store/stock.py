"""Free stock: how much of each offer is free in each store, as 1C last said.

Keyed by the CRM's names (the offer's externalId, the store's code), since the
order robot reads it against CRM orders.  Amounts are kept exact (decimal
strings).  ``put`` writes only what changed and says which offers did (what
the CRM's inventories must be told).

    with store.begin() as conn:
        changed = stock.put(conn, [("nom-0c41", "main-warehouse", Decimal(5))], now)
    with store.read() as conn:
        rows = stock.rows_of(conn, ["nom-0c41"])   # for order_robot.StockRows
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import Connection, select, tuple_

from syncd.store.schema import stock
from syncd.store.sql import chunks, upsert


def put(conn: Connection, rows: Iterable[tuple[str, str, Decimal]], now: float) -> set[str]:
    """Store each (offer, store, available); returns the offers whose stock changed."""
    wanted = {(offer, store): f"{Decimal(available):f}" for offer, store, available in rows}
    have: dict[tuple[str, str], str] = {}
    for chunk in chunks(sorted(wanted)):
        found = conn.execute(
            select(stock.c.offer, stock.c.store, stock.c.available).where(
                tuple_(stock.c.offer, stock.c.store).in_(chunk)
            )
        )
        have.update({(o, s): a for o, s, a in found})
    changed = [
        {"offer": o, "store": s, "available": a, "changed_at": now}
        for (o, s), a in wanted.items()
        if have.get((o, s)) is None or Decimal(have[(o, s)]) != Decimal(a)
    ]
    if changed:
        conn.execute(upsert(conn, stock, ["offer", "store"], ["available", "changed_at"]), changed)
    return {row["offer"] for row in changed}


def rows_of(conn: Connection, offers: Iterable[str]) -> list[dict]:
    """The stock rows of these offers: ``{"offer", "store", "available"}`` each."""
    found: list[dict] = []
    for chunk in chunks(sorted(set(offers))):
        rows = conn.execute(
            select(stock.c.offer, stock.c.store, stock.c.available).where(stock.c.offer.in_(chunk))
        )
        found += [{"offer": o, "store": s, "available": Decimal(a)} for o, s, a in rows]
    return found


def snapshot(conn: Connection) -> dict[tuple[str, str], Decimal]:
    """Every stock row, ``(offer, store) -> available``: what the stock source compares
    a fresh read of 1C with, so that only changed offers become events."""
    rows = conn.execute(select(stock.c.offer, stock.c.store, stock.c.available))
    return {(o, s): Decimal(a) for o, s, a in rows}
