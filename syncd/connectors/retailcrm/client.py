"""The RetailCRM API v5 endpoints syncd uses, on top of ``CrmTransport``.

Thin, explicit methods — one per endpoint — that pick the payload out of the
envelope, chunk batch uploads to the 50-item limit, walk paginated lists, and
walk history by ``sinceId`` (page 1, limit 100) the way every maintained
official module does.  Fields that PHP serialises as an empty list or a map
(``payments``, ``customFields``, item ``properties``) are read by ``as_list``
and ``as_map``; references, which come as an object keyed by code or as a
list (``reference/stores``), by ``by_code``.  An upload accounts for every
item: uploaded, already in the CRM (found by externalId), or failed with the
reason (``uploads``), whichever of its two answer forms the CRM sends.

    crm = CrmClient(CrmTransport(url, key, site="main"))
    for page in crm.order_history(since_id=0):
        ...
    crm.upload_orders(orders)          # chunks of 50: uploaded, existing, failed
    crm.stores()                       # {"main-store": {...}} from a map or a list
    crm.within(deadline).edit_order(…)  # no call starts past a sink round's deadline

An order's payments, the managers' tasks and the stock are in ``payments``,
``tasks`` and ``inventories`` (mixed in: ``crm.create_payment(…)``,
``crm.create_task(…)``, ``crm.upload_inventories(…)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from syncd.connectors.retailcrm.errors import CrmError, CrmPartialUpload
from syncd.connectors.retailcrm.inventories import InventoryCalls
from syncd.connectors.retailcrm.payments import PaymentCalls
from syncd.connectors.retailcrm.tasks import TaskCalls
from syncd.connectors.retailcrm.transport import CrmTransport
from syncd.connectors.retailcrm.uploads import UploadResult, read_answer, settle
from syncd.connectors.rounds import Deadline
from syncd.errors import TransientError

UPLOAD_LIMIT = 50
IDS_PER_CALL = 100
PAGE_LIMITS = (20, 50, 100)


def as_list(value: Any) -> list:
    """A map-or-list field as a list (``{"4326": {...}}`` → ``[{...}]``, ``[]`` stays)."""
    if isinstance(value, dict):
        return list(value.values())
    return list(value or [])


def as_map(value: Any) -> dict:
    """A map-or-list field as a dict (an empty ``[]`` means an empty map)."""
    return dict(value) if isinstance(value, dict) else {}


def by_code(value: Any) -> dict[str, dict]:
    """A reference as a dict keyed by code, from an object keyed by code or a list.

    ``reference/stores`` comes as a list of stores, ``reference/statuses`` as
    an object; an empty one may come as ``[]`` either way.
    """
    items = value.items() if isinstance(value, dict) else enumerate(value or [])
    found: dict[str, dict] = {}
    for key, item in items:
        if isinstance(item, dict):
            found[str(item.get("code") or key)] = item
    return found


def chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@dataclass(frozen=True)
class HistoryPage:
    records: list[dict]
    last_id: int
    more: bool
    generated_at: str | None


class CrmClient(PaymentCalls, TaskCalls, InventoryCalls):
    def __init__(self, transport: CrmTransport) -> None:
        self.t = transport

    def close(self) -> None:
        """Withdraw the transport's rate ask and close its connections."""
        self.t.close()

    def within(self, deadline: Deadline) -> CrmClient:
        """This client, starting no call past ``deadline`` (a sink round's)."""
        return CrmClient(self.t.within(deadline))

    def _site(self, site: str | None) -> str | None:
        return site or self.t.site

    # -- orders ------------------------------------------------------------
    def get_order(self, key: str | int, *, by: str = "externalId", site: str | None = None) -> dict:
        body = self.t.get(f"orders/{key}", {"by": by, "site": self._site(site)})
        return body["order"]

    def create_order(self, order: dict, *, site: str | None = None) -> dict:
        return self.t.post("orders/create", {"order": order, "site": self._site(site)})

    def edit_order(
        self, key: str | int, changes: dict, *, by: str = "externalId", site: str | None = None
    ) -> dict:
        fields = {"order": changes, "by": by, "site": self._site(site)}
        return self.t.post(f"orders/{key}/edit", fields)

    def orders(self, filters: dict | None = None, *, limit: int = 100) -> Iterator[dict]:
        """Every order matching ``filters``, page after page."""
        yield from self._paginate("orders", "orders", filters, limit)

    def orders_by_ids(self, ids: list[int]) -> list[dict]:
        """Full orders by CRM id, at most 100 per call."""
        found: list[dict] = []
        for part in chunks(sorted(set(ids)), IDS_PER_CALL):
            body = self.t.get("orders", {"filter": {"ids": part}, "limit": IDS_PER_CALL})
            found.extend(body.get("orders", []))
        return found

    def orders_by_external_ids(self, external_ids: list[str], site: str | None = None) -> list:
        """Orders by externalId on one site (externalIds are unique per site), 100 per call."""
        return self._by_external_ids("orders", external_ids, site)

    def upload_orders(self, orders: list[dict], *, site: str | None = None) -> UploadResult:
        return self._upload("orders/upload", "orders", orders, site)

    def fix_order_external_ids(self, pairs: list[dict]) -> None:
        """``pairs``: ``[{"id": 1, "externalId": "…"}]`` for orders born in the CRM."""
        for part in chunks(pairs, UPLOAD_LIMIT):
            self.t.post("orders/fix-external-ids", {"orders": part})

    def order_statuses(self, ids: list[int] | None = None, external_ids: list | None = None):  # noqa: ANN201
        body = self.t.get("orders/statuses", {"ids": ids, "externalIds": external_ids})
        return body.get("orders", [])

    def order_history(self, since_id: int = 0, start_date: str | None = None):  # noqa: ANN201
        return self._history("orders/history", since_id, start_date)

    def object_history(self, entity: str, crm_id: int, start_date: str | None) -> list[dict]:
        """The history records of one order or customer (by CRM id) from ``start_date``
        (``Y-m-d H:i:s`` in the account's zone), oldest first; at most 5 pages."""
        records: list[dict] = []
        since = 0
        for _ in range(5):
            filters: dict[str, Any] = {f"{entity}Id": crm_id, "startDate": start_date}
            if since:
                filters["sinceId"] = since
            body = self.t.get(f"{entity}s/history", {"filter": filters, "limit": 100, "page": 1})
            page = body.get("history", [])
            records += page
            pagination = body.get("pagination") or {}
            if not page or int(pagination.get("totalPageCount") or 1) <= 1:
                break
            since = max(int(r["id"]) for r in page)
        return records

    # -- customers ---------------------------------------------------------
    def get_customer(self, key: str | int, *, by: str = "externalId", site: str | None = None):  # noqa: ANN201
        body = self.t.get(f"customers/{key}", {"by": by, "site": self._site(site)})
        return body["customer"]

    def create_customer(self, customer: dict, *, site: str | None = None) -> dict:
        return self.t.post("customers/create", {"customer": customer, "site": self._site(site)})

    def edit_customer(
        self, key: str | int, changes: dict, *, by: str = "externalId", site: str | None = None
    ) -> dict:
        fields = {"customer": changes, "by": by, "site": self._site(site)}
        return self.t.post(f"customers/{key}/edit", fields)

    def customers(self, filters: dict | None = None, *, limit: int = 100) -> Iterator[dict]:
        yield from self._paginate("customers", "customers", filters, limit)

    def customers_by_phone(self, phone: str) -> list[dict]:
        """RetailCRM searches name *or phone* in ``filter[name]``."""
        return list(self.customers({"name": phone}, limit=20))

    def customers_by_email(self, email: str) -> list[dict]:
        return list(self.customers({"email": email}, limit=20))

    def customers_by_external_ids(self, external_ids: list[str], site: str | None = None) -> list:
        """Customers by externalId on one site, 100 per call."""
        return self._by_external_ids("customers", external_ids, site)

    def upload_customers(self, customers: list[dict], *, site: str | None = None) -> UploadResult:
        return self._upload("customers/upload", "customers", customers, site)

    def fix_customer_external_ids(self, pairs: list[dict]) -> None:
        for part in chunks(pairs, UPLOAD_LIMIT):
            self.t.post("customers/fix-external-ids", {"customers": part})

    def combine_customers(self, duplicates: list[int], survivor: int) -> None:
        self.t.post(
            "customers/combine",
            {"customers": [{"id": i} for i in duplicates], "resultCustomer": {"id": survivor}},
        )

    def customer_history(self, since_id: int = 0, start_date: str | None = None):  # noqa: ANN201
        return self._history("customers/history", since_id, start_date)

    # -- references and stock ----------------------------------------------
    def reference(self, name: str, key: str) -> dict[str, dict]:
        """``GET reference/<name>``'s ``key``, keyed by code whether a map or a list came."""
        return by_code(self.t.get(f"reference/{name}").get(key))

    def statuses(self) -> dict[str, dict]:
        return self.reference("statuses", "statuses")

    def status_groups(self) -> dict[str, dict]:
        return self.reference("status-groups", "statusGroups")

    def sites(self) -> dict[str, dict]:
        return self.reference("sites", "sites")

    def stores(self) -> dict[str, dict]:
        return self.reference("stores", "stores")

    def inventories(self, filters: dict | None = None) -> Iterator[dict]:
        yield from self._paginate("store/inventories", "offers", filters, 250)

    def custom_fields(self, entity: str | None = None) -> list[dict]:
        return list(self._paginate("custom-fields", "customFields", {"entity": entity}, 100))

    # -- shared walkers ----------------------------------------------------
    def _paginate(self, path: str, key: str, filters: dict | None, limit: int) -> Iterator[dict]:
        page = 1
        while True:
            body = self.t.get(path, {"filter": filters or None, "limit": limit, "page": page})
            yield from body.get(key, [])
            pagination = body.get("pagination") or {}
            if page >= int(pagination.get("totalPageCount") or 1):
                return
            page += 1

    def _history(self, path: str, since_id: int, start_date: str | None) -> Iterator[HistoryPage]:
        """History after ``since_id``: page 1, limit 100, moving ``sinceId`` on."""
        last = since_id
        while True:
            filters: dict[str, Any] = {"sinceId": last} if last else {}
            if not last and start_date:
                filters["startDate"] = start_date
            body = self.t.get(path, {"filter": filters or None, "limit": 100, "page": 1})
            records = body.get("history", [])
            if records:
                last = max(int(r["id"]) for r in records)
            pagination = body.get("pagination") or {}
            more = bool(records) and int(pagination.get("totalPageCount") or 1) > 1
            yield HistoryPage(records, last, more, body.get("generatedAt"))
            if not more:
                return

    def _by_external_ids(self, key: str, external_ids: list[str], site: str | None) -> list:
        found: list[dict] = []
        for part in chunks(sorted(set(external_ids)), IDS_PER_CALL):
            params = {
                "filter": {"externalIds": part, "sites": _opt(self._site(site))},
                "limit": IDS_PER_CALL,
            }
            found.extend(self.t.get(key, params).get(key, []))
        return found

    def _upload(self, path: str, key: str, items: list[dict], site: str | None) -> UploadResult:
        """Chunks of 50; what an answer refused or left out is looked up by externalId."""
        result = UploadResult()
        for part in chunks(items, UPLOAD_LIMIT):
            result.calls += 1
            try:
                body = self.t.post(path, {key: part, "site": self._site(site)})
            except CrmPartialUpload as exc:  # the 460 form of a partial success
                body = exc.body
            answer = read_answer(body, part, key)
            found: dict[str, dict] = {}
            if answer.to_look_up:
                for crm_object in self._by_external_ids(key, answer.to_look_up, site):
                    found[str(crm_object.get("externalId"))] = crm_object
            sent = {str(item.get("externalId")): item for item in part}
            settle(
                result,
                answer,
                found,
                key[:-1],
                alone=lambda ext, sent=sent: self._create_alone(key[:-1], sent[ext], site),
            )
        return result

    def _create_alone(self, entity: str, item: dict, site: str | None) -> dict | str:
        """One item by itself: ``{id, externalId}`` when it goes in, else why it did not."""
        try:
            body = self.t.post(f"{entity}s/create", {entity: item, "site": self._site(site)})
        except CrmError as exc:
            if isinstance(exc, TransientError):
                raise  # the engine retries the batch; the upload's items are found then
            return str(exc)
        return {"id": body.get("id"), "externalId": str(item.get("externalId"))}


def _opt(value: str | None) -> list[str] | None:
    return [value] if value else None


def client_for(context: Any, per_second: float, owner: str) -> CrmClient:
    """The client of the configured account (``crm.*`` settings); ValueError if unset.

    ``owner`` names the part or command asking for ``per_second`` on the account's
    shared budget (``syncd.connectors.pacing``); close the client when done.
    """
    crm = context.settings.crm
    if not crm.url or crm.api_key is None:
        raise ValueError("needs crm.url and crm.api_key (SYNCD_CRM_URL, SYNCD_CRM_API_KEY)")
    transport = CrmTransport(
        crm.url,
        crm.api_key.get_secret_value(),
        site=crm.site,
        per_second=per_second,
        owner=owner,
        timeouts=crm.timeouts,
        metrics=context.metrics,
    )
    return CrmClient(transport)
