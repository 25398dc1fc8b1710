"""Free stock from 1C, read on a schedule: only offers whose stock changed become events.

The stock register's ``Balance`` (``stock_balance``) is read whole — one call,
~12 s on a live base — every ``interval_seconds`` of the stream (set it to
minutes).  Each row is named the CRM's way through ``items.yaml``
(``syncd.mappings.items``): the offer's externalId, the store's code; rows of
several 1C items that map to one offer are added up.  The result is compared
with syncd's own stock table (what the flows kept last): an offer is an event
(``erp/stock/<offer>``) only when its stock in some store differs — a store
gone from the answer counts as 0, since ``Balance`` leaves out zero rows.
The flow (``stock_sync``) compares again, keeps the rows and pushes the
offer to the CRM.

Set aside (a dead letter each, once — the cursor remembers them — not every
poll): a warehouse ``items.yaml`` does not map (with its rows' count), and a
row that does not read (naming the row and the field).

    sources:
      - name: erp_stock
        kind: erp_stock
        system: erp
        interval_seconds: 600
        options: {mapping: items.yaml, minus: [КОтгрузке]}
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from syncd.connectors.onec.connection import erp_client_for
from syncd.connectors.onec.stock_balance import Formula, FreeStock, read_free_stock
from syncd.engine.contracts import Rejected, Source, SourceBatch
from syncd.engine.pipeline import register
from syncd.mappings.items import ItemsMapping, load_items
from syncd.mappings.load import MappingError
from syncd.model import Event, fingerprint
from syncd.store import Store
from syncd.store import stock as stock_table

WAREHOUSES = "Catalog_Склады"


class StockOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stock_register: str = Field(
        "AccumulationRegister_ТоварыНаСкладах", description="the stock register (Balance type)"
    )
    entity: str = Field("stock", description="syncd's name for the events")
    plus: list[str] = Field(
        default_factory=lambda: ["ВНаличии"], min_length=1, description="resources that add"
    )
    minus: list[str] = Field(
        default_factory=lambda: ["КОтгрузке"],
        description="resources that take away (free = sum(plus) - sum(minus), at least 0)",
    )
    condition: str | None = Field(
        None, description="Balance's Condition, e.g. Склад_Key eq guid'…' (none: all stock)"
    )
    mapping: str = Field("items.yaml", description="the item and store mapping, in mappings_dir")
    events_per_batch: int = Field(500, ge=1, le=10000)


@register
class ErpStockSource(Source):
    kind = "erp_stock"
    Options = StockOptions

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        settings = self.context.settings
        try:
            self.names: ItemsMapping = load_items(settings.mappings_dir / self.options.mapping)
        except MappingError as exc:
            raise ValueError(f"{self.options.mapping} is not valid:\n{exc}") from None
        self.client = erp_client_for(self.context)
        self.formula = Formula(tuple(self.options.plus), tuple(self.options.minus))
        self._store: Store | None = self.context.store
        self._own_store = False
        self.clock = time.time

    def close(self) -> None:
        if self._own_store and self._store is not None:
            self._store.dispose()

    @property
    def store(self) -> Store:
        """syncd's store, to compare with (the daemon's; else one of its own)."""
        if self._store is None:
            self._store = Store.open(self.context.settings.database_url, pool_size=2)
            self._own_store = True
        return self._store

    def poll(self, cursor: Any) -> Iterator[SourceBatch]:
        state = dict(cursor or {})
        reported = set(state.get("set_aside") or [])
        now = self.clock()
        o = self.options
        rows, bad = read_free_stock(self.client, o.stock_register, self.formula, o.condition)
        codes = self._warehouse_codes() if self.names.needs_codes else {}
        wanted, unmapped = self.picture(rows, codes)
        with self.store.read() as conn:
            kept = stock_table.snapshot(conn)
        events = self.changes(wanted, kept, now)

        rejected: list[Rejected] = []
        still: set[str] = set()
        for warehouse, count in sorted(unmapped.items()):
            tag = f"warehouse:{warehouse}"
            still.add(tag)
            if tag not in reported:
                code = codes.get(warehouse)
                named = f"{warehouse} (Code {code})" if code else warehouse
                rejected.append(
                    Rejected(
                        subject=f"{o.stock_register}/Balance Склад_Key {warehouse}",
                        error=f"the 1C warehouse {named} is not in {o.mapping} stores: its "
                        f"stock ({count} rows) is set aside until it is mapped",
                        payload={"warehouse": warehouse, "code": code, "rows": count},
                    )
                )
        for row in bad:
            tag = f"row:{fingerprint(row.raw)}"
            still.add(tag)
            if tag not in reported:
                rejected.append(Rejected(subject=row.where, error=row.error, payload=row.raw))
        new_cursor = {"read_at": now, "set_aside": sorted(still)}
        size = o.events_per_batch
        for start in range(0, len(events), size):
            chunk = events[start : start + size]
            last = start + size >= len(events)
            if last:
                yield SourceBatch(chunk, new_cursor, rejected)
            else:
                yield SourceBatch(chunk, state or None)
        if not events:
            yield SourceBatch([], new_cursor, rejected)

    def picture(
        self, rows: list[FreeStock], codes: dict[str, str]
    ) -> tuple[dict[str, dict[str, Decimal]], dict[str, int]]:
        """Free stock by CRM offer and store, and the unmapped warehouses' row counts."""
        wanted: dict[str, dict[str, Decimal]] = defaultdict(dict)
        unmapped: dict[str, int] = defaultdict(int)
        for row in rows:
            store = self.names.store_of(row.warehouse, codes.get(row.warehouse))
            if store is None:
                unmapped[row.warehouse] += 1
                continue
            offer = self.names.offer_of(row.item, row.characteristic)
            if offer is None:
                continue  # unmapped_items: skip
            stores = wanted[offer]
            stores[store] = stores.get(store, Decimal(0)) + row.free
        return wanted, unmapped

    def changes(
        self,
        wanted: dict[str, dict[str, Decimal]],
        kept: dict[tuple[str, str], Decimal],
        now: float,
    ) -> list[Event]:
        """An event per offer whose stock differs from what syncd keeps, with every store
        of it (0 where 1C no longer shows it)."""
        known: dict[str, set[str]] = defaultdict(set)
        for offer, store in kept:
            known[offer].add(store)
        events: list[Event] = []
        for offer in sorted(set(wanted) | set(known)):
            stores = wanted.get(offer, {})
            full = {s: stores.get(s, Decimal(0)) for s in set(stores) | known[offer]}
            if all(kept.get((offer, s), Decimal(0)) == v for s, v in full.items()):
                continue
            events.append(
                Event(
                    system=self.system,
                    entity=self.options.entity,
                    external_id=offer,
                    version=f"{now:.3f}",
                    payload={
                        "offer": offer,
                        "site": self.names.site,
                        "stores": {s: f"{v:f}" for s, v in sorted(full.items())},
                    },
                    changed_at=now,
                    stream=self.name,
                )
            )
        return events

    def _warehouse_codes(self) -> dict[str, str]:
        meta = self.client.metadata()
        return {
            str(w["Ref_Key"]).lower(): str(w.get("Code") or "")
            for w in self.client.entities(WAREHOUSES, meta, select="Ref_Key,Code")
        }
