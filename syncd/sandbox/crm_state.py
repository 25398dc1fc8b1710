"""The sandbox CRM's data: orders, customers and one global history, in memory.

It follows the facts in shared/reference/retailcrm-api.md:
- history ids are one increasing sequence shared by every change;
- a history record says who made the change: ``source`` user or api, with
  ``apiKey.current`` true only for the key that reads the history;
- a record carries the whole entity when the entity was created, a stub
  ``{id, externalId?, site, status}`` otherwise;
- field names are snake_case;
- ``number`` is the id plus the site's letter;
- ``payments`` is a map keyed by id;
- an empty ``customFields`` is ``[]``;
- externalId is unique per site;
- ``/api/credentials`` tells a key its scopes and sites (``KeyAccess``).
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

STATUS_GROUPS = {
    "new": ["new"],
    "approval": ["availability-confirmed", "offer-analog", "client-confirmed", "prepayed"],
    "assembling": ["send-to-assembling", "assembling", "assembling-complete"],
    "delivery": ["send-to-delivery", "delivering", "redirect", "delivered"],
    "complete": ["complete"],
    "cancel": [
        "no-call",
        "no-product",
        "already-buyed",
        "delyvery-did-not-suit",
        "prices-did-not-suit",
        "cancel-other",
        "abandoned-cart",
    ],
}
# What a sandbox key may do unless told otherwise: every scope syncd's parts use.
DEFAULT_SCOPES = (
    "order_read",
    "order_write",
    "customer_read",
    "customer_write",
    "reference_read",
    "reference_write",
    "store_read",
    "store_write",
    "custom_fields_read",
    "custom_fields_write",
)
GROUP_OF = {status: group for group, codes in STATUS_GROUPS.items() for status in codes}
SNAKE = {
    "firstName": "first_name",
    "lastName": "last_name",
    "customerComment": "customer_comment",
    "managerComment": "manager_comment",
    "orderMethod": "order_method",
    "orderType": "order_type",
    "externalId": "external_id",
    "createdAt": "created_at",
}


class CrmRefusal(Exception):
    def __init__(self, status: int, message: str, errors: Any = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


@dataclass
class KeyAccess:
    """What ``/api/credentials`` answers for one key: its scopes and the sites it reaches.

    ``sites`` None means every site of the account.
    """

    scopes: list[str] = field(default_factory=lambda: list(DEFAULT_SCOPES))
    site_access: str = "access_full"  # or access_selective
    sites: list[str] | None = None

    def credentials(self, account_sites: list[str]) -> dict:
        available = list(account_sites if self.sites is None else self.sites)
        return {
            "success": True,
            # the deprecated list of method paths the key may call
            "credentials": ["/api/reference/statuses", "/api/orders", "/api/customers"],
            "scopes": list(self.scopes),
            "siteAccess": self.site_access,
            "sitesAvailable": available,
        }


class CrmState:
    def __init__(self, sites: tuple[str, ...] = ("main",), timezone: str = "Europe/Moscow") -> None:
        # RetailCRM writes every date in the account's zone, whatever the host's
        self.zone = ZoneInfo(timezone)
        self.lock = threading.RLock()
        self.sites = list(sites)
        self.records: dict[str, dict[int, dict]] = {"order": {}, "customer": {}}
        self.history: dict[str, list[dict]] = {"order": [], "customer": []}
        self._next_id = {"order": 0, "customer": 0}
        self._history_id = 0

    def now(self) -> str:
        """The account's wall-clock time, as RetailCRM writes it (naive ``Y-m-d H:i:s``)."""
        return datetime.now(self.zone).strftime("%Y-%m-%d %H:%M:%S")

    # -- lookups -------------------------------------------------------------
    def find(self, entity: str, key: str, by: str, site: str | None) -> dict | None:
        for obj in self.records[entity].values():
            if by == "id" and str(obj["id"]) == str(key):
                return obj
            if (
                by == "externalId"
                and obj.get("externalId") == key
                and (site is None or obj["site"] == site)
            ):
                return obj
        return None

    def _site(self, site: str | None) -> str:
        if site is None:
            if len(self.sites) > 1:
                raise CrmRefusal(
                    400,
                    "Errors in the input parameters",
                    {"site": "The site parameter is required"},
                )
            return self.sites[0]
        if site not in self.sites:
            raise CrmRefusal(403, "Access denied.", ["No access to the site " + site])
        return site

    # -- writes ----------------------------------------------------------------
    def create(self, entity: str, data: dict, site: str | None, author: str) -> dict:
        with self.lock:
            site = self._site(site)
            ext = data.get("externalId")
            if ext and self.find(entity, ext, "externalId", site):
                kind = "Order" if entity == "order" else "Customer"
                raise CrmRefusal(400, f"{kind} with externalId={ext} already exists.")
            status = data.get("status", "new")
            if entity == "order" and status not in GROUP_OF:
                raise CrmRefusal(400, "Errors in the entity format", {"status": "Status not found"})
            self._next_id[entity] += 1
            new_id = self._next_id[entity]
            created = data.get("createdAt") if entity == "order" else None  # API: settable
            obj = {
                **copy.deepcopy(data),
                "id": new_id,
                "site": site,
                "createdAt": created or self.now(),
            }
            obj["customFields"] = obj.get("customFields") or []
            if entity == "order":
                number = data.get("number") or f"{new_id}{site[0].upper()}"  # API: optional
                obj.update(status=status, number=number, slug=new_id)
                obj["payments"] = {
                    str(i + 1 + new_id * 100): {**p, "id": i + 1 + new_id * 100}
                    for i, p in enumerate(obj.get("payments") or [])
                }
            self.records[entity][new_id] = obj
            self._record(
                entity,
                obj,
                "id" if entity == "customer" else "status",
                None,
                _ref(obj, "status"),
                author,
                created=True,
            )
            return obj

    def edit(self, entity: str, obj: dict, changes: dict, author: str) -> dict:
        with self.lock:
            if entity == "order" and "status" in changes and changes["status"] not in GROUP_OF:
                raise CrmRefusal(400, "Errors in the entity format", {"status": "Status not found"})
            for name, value in changes.items():
                if name in ("id", "site"):
                    continue
                if name == "payments" and entity == "order":
                    value = {str(p.get("id") or f"{obj['id']}{i}"): p for i, p in enumerate(value)}
                old = obj.get(name)
                if old == value:
                    continue
                if name == "customFields":  # one record per field: custom_<code>
                    before = dict(old or {})
                    obj[name] = {**before, **value} or []
                    for code, new in value.items():
                        if before.get(code) != new:
                            self._record(
                                entity, obj, f"custom_{code}", before.get(code), new, author
                            )
                    continue
                obj[name] = copy.deepcopy(value)
                field = SNAKE.get(name, name)
                old_value, new_value = old, value
                if name == "status":
                    old_value, new_value = {"code": old}, {"code": value}
                self._record(entity, obj, field, old_value, new_value, author)
            return obj

    def _record(self, entity, obj, field, old, new, author, created=False) -> None:  # noqa: ANN001
        self._history_id += 1
        who = (
            {"source": "user", "user": {"id": 1}}
            if author == "user"
            else {"source": "api", "apiKey": {"key": author}}
        )
        stub = {"id": obj["id"], "site": obj["site"]}
        if obj.get("externalId"):
            stub["externalId"] = obj["externalId"]
        if entity == "order":
            stub["status"] = obj["status"]
        rec = {
            "id": self._history_id,
            "createdAt": self.now(),
            "field": field,
            "oldValue": old,
            "newValue": new,
            entity: copy.deepcopy(obj) if created else stub,
            **who,
        }
        if created:
            rec["created"] = True
        self.history[entity].append(rec)

    def record_deleted(self, entity: str, obj: dict, author: str, combined_to: int | None) -> None:
        """A deleted (or merged-away) object: ``deleted`` and, for a merge, ``combinedTo``."""
        with self.lock:
            self._record(entity, obj, "id", obj["id"], None, author)
            rec = self.history[entity][-1]
            rec["deleted"] = True
            if combined_to is not None:
                rec["combinedTo"] = {"id": combined_to}

    def history_for(self, entity: str, reader: str, since_id: int, start: str | None) -> list:
        """Records after ``since_id`` (and from ``start``), as ``reader``'s key sees them."""
        out = []
        for rec in self.history[entity]:
            if rec["id"] <= since_id or (start and rec["createdAt"] < start):
                continue
            view = copy.deepcopy(rec)
            if "apiKey" in view:
                view["apiKey"] = {"current": view["apiKey"]["key"] == reader}
            out.append(view)
        return out


def _ref(obj: dict, name: str) -> Any:
    return {"code": obj[name]} if name in obj else None
