"""The sandbox CRM's stock: ``store/inventories`` and ``store/inventories/upload``.

Offers it knows: those in its catalogue (``add_offers``, which the demo and
the tests seed) and every offer an order's items name (``offer.externalId``).
An upload (``offers=<json [{externalId | xmlId | id, site?, stores: [{code,
available, purchasePrice?}]}]>``, at most 250 — more is refused 400) sets the
named stores of each known offer and answers ``{success,
processedOffersCount, notFoundOffers: [{externalId, xmlId}]}``
(shared/reference/retailcrm-api.md §2.4); an offer it does not know goes to
``notFoundOffers`` and the rest go in.  A store code not in
``reference/stores`` is refused 400 naming it (the real account's answer to
that is not recorded [U]).  ``GET store/inventories`` lists offers (filter
``offerExternalId[]``), each with ``quantity`` (the sum) and, with
``filter[details]=1``, ``stores: [{store, quantity, purchasePrice}]``.

    inventories = CrmInventories(state); inventories.add_offers(["A-1", "A-2"])
    inventories.available("A-1")        # {"main-store": 5.0}
"""

from __future__ import annotations

import json
import threading
from typing import Any

from syncd_sandbox.crm_paging import page_of, pagination, paging
from syncd_sandbox.crm_references import STORES
from syncd_sandbox.crm_state import CrmRefusal

UPLOAD_LIMIT = 250


class CrmInventories:
    def __init__(self, state: Any) -> None:
        self.state = state
        self.lock = threading.Lock()
        self.catalogue: dict[str, int] = {}  # offer externalId -> offer id
        self.stock: dict[str, dict[str, float]] = {}  # offer -> store code -> available
        self.uploads = 0  # calls of store/inventories/upload

    def add_offers(self, external_ids: list[str]) -> None:
        with self.lock:
            for ref in external_ids:
                self.catalogue.setdefault(ref, 100_000 + len(self.catalogue))

    def available(self, offer: str) -> dict[str, float]:
        with self.lock:
            return dict(self.stock.get(offer, {}))

    def _known(self) -> dict[str, int]:
        known = dict(self.catalogue)
        with self.state.lock:
            for order in self.state.records["order"].values():
                for item in order.get("items") or []:
                    offer = item.get("offer") or {}
                    ref = offer.get("externalId")
                    if ref and ref not in known:
                        known[ref] = int(offer.get("id") or 200_000 + len(known))
        return known

    def upload(self, p: dict) -> tuple[int, dict]:
        offers = json.loads(p["offers"])
        if not isinstance(offers, list):
            raise CrmRefusal(400, "Errors in the input parameters", {"offers": "expected a list"})
        if len(offers) > UPLOAD_LIMIT:
            raise CrmRefusal(
                400,
                "Errors in the input parameters",
                {"offers": f"This collection should contain {UPLOAD_LIMIT} elements or less."},
            )
        codes = {s["code"] for s in STORES}
        for i, offer in enumerate(offers):
            for store in offer.get("stores") or []:
                if store.get("code") not in codes:
                    raise CrmRefusal(
                        400,
                        "Errors in the input parameters",
                        {f"offers[{i}][stores]": f"Store {store.get('code')!r} not found"},
                    )
        known = self._known()
        processed, missing = 0, []
        with self.lock:
            self.uploads += 1
            for offer in offers:
                ref = offer.get("externalId")
                if ref not in known:
                    missing.append({"externalId": ref, "xmlId": offer.get("xmlId")})
                    continue
                stores = self.stock.setdefault(ref, {})
                for store in offer.get("stores") or []:
                    stores[store["code"]] = float(store.get("available") or 0)
                processed += 1
        return 200, {"success": True, "processedOffersCount": processed, "notFoundOffers": missing}

    def listing(self, p: dict) -> tuple[int, dict]:
        f = p.get("filter") if isinstance(p.get("filter"), dict) else {}
        limit, page = paging(p, allowed=(20, 50, 100, 250))
        known = self._known()
        wanted = f.get("offerExternalId")
        refs = sorted(known) if not wanted else [r for r in wanted if r in known]
        details = str(f.get("details") or "") in ("1", "true")
        with self.lock:
            offers = []
            for ref in refs:
                stores = self.stock.get(ref, {})
                offer = {
                    "id": known[ref],
                    "externalId": ref,
                    "xmlId": ref,
                    "site": self.state.sites[0] if self.state.sites else "main",
                    "quantity": sum(stores.values()),
                }
                if details:
                    offer["stores"] = [
                        {"store": code, "quantity": q, "purchasePrice": 0}
                        for code, q in sorted(stores.items())
                    ]
                offers.append(offer)
        body = {
            "success": True,
            "pagination": pagination(len(offers), limit, page),
            "offers": page_of(offers, limit, page),
        }
        return 200, body
