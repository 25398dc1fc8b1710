"""The CRM's stock sink: offers' free stock to ``store/inventories/upload``, 250 a call.

One command per offer (key: the offer's externalId; action ``inventory``:
its stock in each store syncd knows of), so that planning drops an offer
whose stock is what was pushed last, and an offer's pushes never overtake
each other.  This sink claims up to ``batch_size`` (1,000) commands a round —
the orders' sink claims 50, the limit of ``orders/upload`` — and sends them
in uploads of at most 250 offers (per site), one after another, paced by
the account's one budget shared with every other part (10 requests/s on a
real account).

An offer the CRM's catalogue does not have comes back in ``notFoundOffers``:
its command is done (retrying cannot make the offer exist, and a 1C base has
many more items than a shop sells), a warning names it once per process and
``syncd_inventory_offers_total{outcome="not_found"}`` counts it.  Once the
offer is in the catalogue, its next stock change reaches it.  A refused call
(400) fails its chunk for good (dead letters, with the CRM's reason); no
answer or a 5xx leaves it to the retry policy (an upload sets values: a
repeat is harmless).

    sinks:
      crm_stock: {kind: retailcrm_inventory, system: crm}
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from syncd.connectors.retailcrm.actions import INVENTORY_ACTIONS
from syncd.connectors.retailcrm.client import client_for
from syncd.connectors.retailcrm.inventories import INVENTORY_LIMIT
from syncd.engine.actions import BadCommand
from syncd.engine.actions import read as read_action
from syncd.engine.contracts import Result, Sink
from syncd.engine.pipeline import register
from syncd.errors import PermanentError, TransientError
from syncd.model import Command

log = logging.getLogger(__name__)


ACTIONS = INVENTORY_ACTIONS


class InventorySinkOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requests_per_second: float = Field(10.0, gt=0)
    offers_per_call: int = Field(INVENTORY_LIMIT, ge=1, le=INVENTORY_LIMIT)


@register
class CrmInventorySink(Sink):
    kind = "retailcrm_inventory"
    Options = InventorySinkOptions
    batch_size: ClassVar[int] = 4 * INVENTORY_LIMIT
    actions = ACTIONS

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.client = client_for(
            self.context, self.options.requests_per_second, f"sink {self.name}"
        )
        self.metrics = self.context.metrics
        self.warned: set[str] = set()  # offers named as unknown to the CRM already

    def close(self) -> None:
        self.client.close()

    def apply(self, commands: list[Command]) -> list[Result]:
        results: list[Result] = []
        by_site: dict[str | None, list[tuple[Command, dict]]] = defaultdict(list)
        for c in commands:
            try:
                action = read_action(c, self.actions, self.name)
            except BadCommand as exc:
                results.append(Result.failed(c, str(exc), permanent=True))
                continue
            offer = {"externalId": c.key, "stores": [s.model_dump() for s in action.stores]}
            by_site[action.site].append((c, offer))
        size = self.options.offers_per_call
        for site, items in by_site.items():
            for start in range(0, len(items), size):
                results += self._upload(items[start : start + size], site)
        return results

    def _upload(self, items: list[tuple[Command, dict]], site: str | None) -> list[Result]:
        try:
            done = self.client.upload_inventories([offer for _, offer in items], site)
        except PermanentError as exc:
            return [Result.failed(c, f"store/inventories/upload refused: {exc}", permanent=True)
                    for c, _ in items]  # fmt: skip
        except (TransientError, OSError) as exc:
            return [Result.failed(c, f"store/inventories/upload: {exc}") for c, _ in items]
        unknown = [c.key for c, _ in items if c.key in done.not_found]
        for key in unknown:
            if key not in self.warned:
                self.warned.add(key)
                log.warning(
                    "the CRM has no offer %r (notFoundOffers): its stock is not shown there",
                    key,
                    extra={"sink": self.name},
                )
        self._count("pushed", len(items) - len(unknown))
        self._count("not_found", len(unknown))
        return [Result.applied(c) for c, _ in items]

    def _count(self, outcome: str, n: int) -> None:
        counter = getattr(self.metrics, "inventory_offers", None)
        if counter is not None and n:
            counter.labels(self.name, outcome).inc(n)
