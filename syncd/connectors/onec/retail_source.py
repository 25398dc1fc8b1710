"""Receipts from a 1C:Розница 2 store base (``Document_ЧекККМ``), over its own OData.

The central УТ/ERP only sees shift totals (reference §5.1): the buyer's card,
phone and e-mail stay on the receipt in the store's base.  One source per
store base (or per group of bases behind one publication): it reads receipts
by a date window with an overlap, like ``erp_window``, keeps the ones whose
``СтатусЧекаККМ`` is one of ``statuses`` (punched, archived), resolves the
discount card's code (``Catalog_ИнформационныеКарты``, cached), and yields
them as the same receipt events the POS drop folders give — so the purchase
history flow takes both.  Each store base has its own gentle cap and rate.

    sources:
      - name: retail_store12
        kind: retail_receipts
        system: pos
        options: {odata_url: https://store12/rozn/odata/standard.odata, user: Обмен,
                  password_env: SYNCD_STORE12_PASSWORD, group: msk}
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from syncd.connectors.onec.changes import content_hash, describe, entity_path
from syncd.connectors.onec.date_window import DATE, DateWindow
from syncd.connectors.onec.errors import ErpNotFound
from syncd.connectors.onec.odata import ODataClient
from syncd.connectors.onec.values import EMPTY_GUID, literal
from syncd.engine.contracts import Rejected, Source, SourceBatch
from syncd.engine.pipeline import register
from syncd.logs import register_secret
from syncd.model import Event, fingerprint


class RetailOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    odata_url: str
    user: str
    password_env: str = Field(..., description="the environment variable with the password")
    group: str = Field(..., description="the store group (receipt ids are unique within it)")
    site: str | None = None
    timezone: str = "Europe/Moscow"
    receipts_set: str = "Document_ЧекККМ"
    cards_set: str = "Catalog_ИнформационныеКарты"
    statuses: list[str] = Field(default_factory=lambda: ["Пробитый", "Архивный"])
    overlap_seconds: float = Field(600.0, ge=0)
    first_lookback_seconds: float = Field(86400.0, ge=0)
    max_concurrency: int = Field(1, ge=1)
    requests_per_second: float = Field(2.0, gt=0)


@register
class RetailReceiptsSource(Source):
    kind = "retail_receipts"
    Options = RetailOptions

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        o = self.options
        password = os.environ.get(o.password_env)
        if not password:
            raise ValueError(f"the store base's password: set {o.password_env}")
        register_secret(password)
        self.client = ODataClient(
            o.odata_url,
            o.user,
            password,
            max_concurrency=o.max_concurrency,
            per_second=o.requests_per_second,
            metrics=self.context.metrics,
        )
        self.zone = ZoneInfo(o.timezone)
        self.cards: dict[str, str] = {}
        self.now = lambda: datetime.now(self.zone).replace(tzinfo=None, microsecond=0)
        self.window = DateWindow(o.overlap_seconds, o.first_lookback_seconds)

    def poll(self, cursor: Any) -> Iterator[SourceBatch]:
        run = self.window.run(cursor, self.now())
        meta = self.client.metadata()
        receipts = meta.entity(self.options.receipts_set)
        events, rejected = [], []
        read = self.client.entities(
            self.options.receipts_set, meta, filter=f"Date ge {literal(run.start)}"
        )
        for position, raw in enumerate(read, start=1):
            try:
                entry = receipts.normalize(raw)  # typed by $metadata, never by the payload
            except (KeyError, ValueError) as exc:
                ident = str(raw.get("Ref_Key", "")).lower()
                if run.saw(ident, "unreadable:" + fingerprint(raw), str(raw.get("Date") or "")):
                    where = f"{self.options.receipts_set} window, entry {position}"
                    shown = describe(self.options.receipts_set, None, raw)
                    rejected.append(Rejected(f"{where}: {shown}", f"unreadable: {exc}", raw))
                continue
            news = run.saw(entry["Ref_Key"], content_hash(entry), entry.get("Date") or "")
            if news and entry.get("СтатусЧекаККМ") in self.options.statuses:
                events.append(self._event(entry))
        yield SourceBatch(events, run.cursor(), rejected)

    def _card(self, ref: str | None) -> str:
        if not ref or ref == EMPTY_GUID:
            return ""
        if ref not in self.cards:
            try:
                path = entity_path(self.options.cards_set, {"Ref_Key": ref})
                card = self.client.get_entity(self.options.cards_set, path)
                self.cards[ref] = str(card.get("КодКарты") or card.get("Code") or "")
            except ErpNotFound:
                self.cards[ref] = ""
        return self.cards[ref]

    def _event(self, entry: dict) -> Event:
        at = datetime.strptime(entry["Date"], DATE).replace(tzinfo=self.zone)
        lines = entry.get("Товары") or []
        receipt = {
            "receipt_id": str(entry["Ref_Key"]),
            "store": str(entry.get("Магазин_Key") or ""),
            "at": at.isoformat(),
            "operation": "return"
            if "возврат" in str(entry.get("ВидОперации", "")).lower()
            else "sale",
            "total": round(entry.get("СуммаДокумента") or 0.0, 2),
            "items": [
                {
                    "sku": line.get("Номенклатура_Key") or "",
                    "name": "",
                    "quantity": line.get("Количество") or 0.0,
                    "price": line.get("Цена") or 0.0,
                    "amount": line.get("Сумма") or 0.0,
                }
                for line in lines
            ],
            "buyer": {
                "phone": str(entry.get("Телефон") or ""),
                "email": str(entry.get("АдресЭП") or ""),
                "card": self._card(entry.get("ДисконтнаяКарта_Key")),
                "name": "",
            },
            "group": self.options.group,
            "site": self.options.site,
        }
        return Event(
            system=self.system,
            entity="receipt",
            external_id=f"{self.options.group}:{receipt['receipt_id']}",
            version=str(entry.get("DataVersion") or fingerprint(receipt)),
            payload=receipt,
            changed_at=at.timestamp() if at else time.time(),
            stream=self.name,
        )
