"""The sandbox CRM's data: orders, customers and one global history, in memory.

It follows the facts in shared/reference/retailcrm-api.md:
- records are kept in the shape a real account answers, computed keys and
  all (``crm_bodies``: item ids, the nested customer, totals, payments as a
  list, ``number``, ``slug``);
- an order that names no customer the account knows gets a new one, as the
  account creates a customer for such an order; a customer's edit shows in
  the orders that carry it;
- history ids are one increasing sequence shared by every change;
- a history record says who made the change: ``source`` user or api, with
  ``apiKey.current`` true only for the key that reads the history;
- a record carries the whole entity when the entity was created, a stub
  ``{id, externalId?, site, status}`` otherwise; a created customer's record
  has ``field: id`` and the new id as ``newValue``; a deleted customer's
  record carries the whole customer;
- field names are snake_case, named the history's way (``crm_changes``);
- externalId is unique per site;
- payments (``crm_payments``) and tasks (``crm_tasks``) of the orders, and
  the users who perform tasks (``crm_users``);
- ``/api/credentials`` tells a key its scopes and sites (``KeyAccess``).
"""

from __future__ import annotations

import bisect
import copy
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from syncd_sandbox.crm_bodies import (
    customer_body,
    customer_from_order,
    mark_full_paid,
    nested_customer,
    order_body,
    refresh_totals,
    with_item_ids,
    with_payment_ids,
)
from syncd_sandbox.crm_changes import NOT_RECORDED, changes_between
from syncd_sandbox.crm_users import default_users

STATUS_GROUPS = {
    "new": ["new"],
    "approval": [
        "availability-confirmed",
        "offer-analog",
        "requires-agreement",  # the seed retailer's own "Требует согласования"
        "client-confirmed",
        "prepayed",
    ],
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
        self._next_id = {"order": 0, "customer": 0, "row": 0}  # row: items and payments
        self.orders_of: dict[int, set[int]] = {}  # customer id -> the ids of its orders
        # externalId -> the ids carrying it (one per site): a look-up by externalId is
        # one dict probe, not a scan of every record (soaks hold tens of thousands)
        self._by_external: dict[str, dict[str, list[int]]] = {"order": {}, "customer": {}}
        self._history_id = 0
        self.tasks: dict[int, dict] = {}  # crm_tasks: by task id
        self.users: dict[int, dict] = default_users()  # crm_users: who may perform a task

    def now(self) -> str:
        """The account's wall-clock time, as RetailCRM writes it (naive ``Y-m-d H:i:s``)."""
        return datetime.now(self.zone).strftime("%Y-%m-%d %H:%M:%S")

    # -- lookups -------------------------------------------------------------
    def find(self, entity: str, key: str, by: str, site: str | None) -> dict | None:
        if by == "id":
            return self.records[entity].get(int(key)) if str(key).isdigit() else None
        if by != "externalId":
            return None
        with self.lock:  # the API's threads add records meanwhile
            for obj_id in self._by_external[entity].get(key, ()):
                obj = self.records[entity].get(obj_id)
                if obj and obj.get("externalId") == key and (site is None or obj["site"] == site):
                    return obj
        return None

    def _index(self, entity: str, obj: dict, was: str | None = None) -> None:
        """``obj`` findable by its externalId (no longer by ``was``)."""
        index = self._by_external[entity]
        if was and obj["id"] in index.get(was, ()):
            index[was].remove(obj["id"])
        ext = obj.get("externalId")
        if ext and obj["id"] not in index.setdefault(ext, []):
            index[ext].append(obj["id"])

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
            if entity == "customer":
                return self._create_customer(copy.deepcopy(data), site, author)
            return self._create_order(copy.deepcopy(data), site, author)

    def _create_customer(self, data: dict, site: str, author: str) -> dict:
        self._next_id["customer"] += 1
        new_id = self._next_id["customer"]
        obj = customer_body(data, customer_id=new_id, site=site, created_at=self.now())
        self.records["customer"][new_id] = obj
        self._index("customer", obj)
        # a created customer's record: field "id", the new id as newValue, the whole customer
        self._record("customer", obj, "id", None, new_id, author, created=True)
        return obj

    def _create_order(self, data: dict, site: str, author: str) -> dict:
        status = data.get("status", "new")
        if status not in GROUP_OF:
            raise CrmRefusal(400, "Errors in the entity format", {"status": "Status not found"})
        customer = self._customer_for(data, site, author)
        self._next_id["order"] += 1
        new_id = self._next_id["order"]
        obj = order_body(
            {**data, "status": status},
            order_id=new_id,
            site=site,
            created_at=data.get("createdAt") or self.now(),  # API: settable
            new_id=self._new_row_id,
            from_api=author != "user",
        )
        self._link(obj, customer)
        self.records["order"][new_id] = obj
        self._index("order", obj)
        self._record("order", obj, "status", None, {"code": status}, author, created=True)
        return obj

    def _new_row_id(self) -> int:
        """The next id of an order's item or payment."""
        self._next_id["row"] += 1
        return self._next_id["row"]

    def _customer_for(self, order: dict, site: str, author: str) -> dict:
        """The customer an order names (``{id}`` or ``{externalId}``), or a new one.

        An order that names no customer the account knows gets a new customer
        from its contact fields (and the externalId it named) [U: the real
        account's rule for an unknown externalId is unconfirmed]; an unknown
        ``id`` is refused.  An externalId is looked for on the order's site
        first, then on any site.
        """
        reference = order.get("customer") or {}
        if reference.get("id") is not None:
            found = self.find("customer", str(reference["id"]), "id", None)
            if found is None:
                raise CrmRefusal(
                    400,
                    "Errors in the entity format",
                    {"customer": f"Customer with id {reference['id']} not found"},
                )
            return found
        ext = reference.get("externalId")
        if ext:
            found = self.find("customer", ext, "externalId", site)
            found = found or self.find("customer", ext, "externalId", None)
            if found is not None:
                return found
        return self._create_customer(customer_from_order(order), site, author)

    def _link(self, order: dict, customer: dict) -> None:
        old = order.get("customer") or {}
        if old.get("id") in self.orders_of:
            self.orders_of[old["id"]].discard(order["id"])
        order["customer"] = nested_customer(customer)
        self.orders_of.setdefault(customer["id"], set()).add(order["id"])

    def edit(self, entity: str, obj: dict, changes: dict, author: str) -> dict:
        with self.lock:
            if entity == "order" and "status" in changes and changes["status"] not in GROUP_OF:
                raise CrmRefusal(400, "Errors in the entity format", {"status": "Status not found"})
            before = copy.deepcopy(obj)
            touched = [name for name in changes if name not in NOT_RECORDED]
            for name in touched:
                self._apply(entity, obj, name, copy.deepcopy(changes[name]), author)
            if obj.get("externalId") != before.get("externalId"):
                self._index(entity, obj, was=before.get("externalId"))
            if entity == "order":
                refresh_totals(obj)
                mark_full_paid(obj, self.now())
                paid_at_moved = obj.get("fullPaidAt") != before.get("fullPaidAt")
                if paid_at_moved and "fullPaidAt" not in touched:
                    touched.append("fullPaidAt")  # computed, yet history records it
                if obj["status"] != before["status"]:
                    obj["statusUpdatedAt"] = self.now()
            for change in changes_between(before, obj, touched):
                self._record(
                    entity, obj, change.field, change.old, change.new, author, about=change.about
                )
            if entity == "customer":
                for order_id in self.orders_of.get(obj["id"], ()):
                    self.records["order"][order_id]["customer"] = nested_customer(obj)
            return obj

    def _apply(self, entity: str, obj: dict, name: str, value: Any, author: str) -> None:
        """One written field into the record, the way the account takes it."""
        if name == "customFields":  # merged field by field; empty is []
            before = obj.get(name) if isinstance(obj.get(name), dict) else {}
            obj[name] = {**before, **(value if isinstance(value, dict) else {})} or []
        elif entity == "order" and name == "items":
            now = self.now()
            obj[name] = with_item_ids(value or [], obj.get(name) or [], self._new_row_id, now)
        elif entity == "order" and name == "payments":
            obj[name] = with_payment_ids(value or [], obj.get(name) or [], self._new_row_id)
        elif entity == "order" and name == "customer":
            self._link(obj, self._customer_for({**obj, "customer": value}, obj["site"], author))
        else:
            obj[name] = value

    def _record(
        self,
        entity: str,
        obj: dict,
        field: str,
        old: Any,
        new: Any,
        author: str,
        *,
        created: bool = False,
        whole: bool = False,
        about: dict | None = None,
    ) -> None:
        """One history record; a created one (or ``whole``) carries the entity, others a stub."""
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
            entity: copy.deepcopy(obj) if created or whole else stub,
            **(about or {}),
            **who,
        }
        if created:
            rec["created"] = True
        self.history[entity].append(rec)

    def record_deleted(self, entity: str, obj: dict, author: str, combined_to: int | None) -> None:
        """A deleted (or merged-away) object: ``deleted``, the whole object and, for a
        merge, ``combinedTo``; its orders move to the survivor."""
        with self.lock:
            self._record(entity, obj, "id", obj["id"], None, author, whole=True)
            rec = self.history[entity][-1]
            rec["deleted"] = True
            if combined_to is not None:
                rec["combinedTo"] = {"id": combined_to}
                survivor = self.records[entity].get(combined_to)
                if entity == "customer" and survivor is not None:
                    for order_id in list(self.orders_of.pop(obj["id"], ())):
                        self._link(self.records["order"][order_id], survivor)

    def history_for(
        self,
        entity: str,
        reader: str,
        since_id: int,
        start: str | None,
        about: tuple[str | None, str | None] = (None, None),
    ) -> list:
        """Records after ``since_id`` (and from ``start``), as ``reader``'s key sees them;
        ``about``: only one object's, by id or externalId (``filter[orderId]`` …)."""
        object_id, external_id = about
        out = []
        records = self.history[entity]  # in id order: start past since_id at once
        first = bisect.bisect_right(records, since_id, key=lambda rec: rec["id"])
        for rec in records[first:]:
            if start and rec["createdAt"] < start:
                continue
            subject = rec.get(entity) or {}
            if object_id is not None and str(subject.get("id")) != str(object_id):
                continue
            if external_id is not None and subject.get("externalId") != external_id:
                continue
            view = copy.deepcopy(rec)
            if "apiKey" in view:
                view["apiKey"] = {"current": view["apiKey"]["key"] == reader}
            out.append(view)
        return out
