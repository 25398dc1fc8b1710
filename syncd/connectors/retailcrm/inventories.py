"""Stock in RetailCRM: ``store/inventories`` (read) and ``store/inventories/upload`` (write).

``store/inventories/upload`` takes ``offers=<json [{externalId, site?, stores:
[{code, available, purchasePrice?}]}]>`` and answers ``{success,
processedOffersCount, notFoundOffers}`` (shared/reference/retailcrm-api.md
§2.4); an upload sets only the stores it names.  syncd sends at most 250
offers a call (the official modules send 200–250).  An offer the CRM's
catalogue does not have comes back in ``notFoundOffers`` — the call still
succeeds for the rest.  ``store/inventories`` lists offers with their stock
(``CrmClient.inventories``), per store with ``filter[details]=1``.

Mixed into ``CrmClient``; the calls go through its transport (pacing, retries,
typed errors).

    done = crm.upload_inventories([{"externalId": "A-1", "stores": [{"code": "main",
                                    "available": 5}]}])
    done.not_found        # {"A-9"}: offers the CRM does not know
    crm.offer_stock(["A-1"])  # [{"externalId": "A-1", "stores": [{"store", "quantity"}], …}]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from syncd.connectors.retailcrm.transport import CrmTransport

INVENTORY_LIMIT = 250


@dataclass
class InventoryUpload:
    processed: int = 0
    not_found: set[str] = field(default_factory=set)  # offers' externalIds
    calls: int = 0


class InventoryCalls:
    """The stock endpoints, mixed into ``CrmClient`` (its ``t``)."""

    t: CrmTransport

    def upload_inventories(self, offers: list[dict], site: str | None = None) -> InventoryUpload:
        """Each offer's stock per store, in calls of at most 250 offers."""
        done = InventoryUpload()
        for start in range(0, len(offers), INVENTORY_LIMIT):
            chunk = offers[start : start + INVENTORY_LIMIT]
            fields: dict[str, Any] = {"offers": chunk}
            if site:
                fields["site"] = site
            answer = self.t.post("store/inventories/upload", fields)
            done.calls += 1
            done.processed += int(answer.get("processedOffersCount") or 0)
            done.not_found |= not_found_ids(answer.get("notFoundOffers"))
        return done

    def offer_stock(self, external_ids: list[str]) -> list[dict]:
        """Offers by externalId with their stock per store (``filter[details]=1``)."""
        found: list[dict] = []
        for start in range(0, len(external_ids), INVENTORY_LIMIT):
            chunk = external_ids[start : start + INVENTORY_LIMIT]
            found += self.inventories({"offerExternalId": chunk, "details": 1})  # type: ignore[attr-defined]
        return found


def not_found_ids(value: Any) -> set[str]:
    """``notFoundOffers`` as externalIds: a list of objects (``{externalId}``) or of ids."""
    ids: set[str] = set()
    for item in value or []:
        if isinstance(item, dict):
            ref = item.get("externalId") or item.get("xmlId") or item.get("id")
            if ref is not None:
                ids.add(str(ref))
        elif item is not None:
            ids.add(str(item))
    return ids
