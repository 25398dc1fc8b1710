"""The sandbox CRM over HTTP: a WSGI app that answers like RetailCRM API v5.

Auth (``X-API-KEY`` or ``apiKey``), the envelope, 201 on create, 400/403/404,
partial uploads answered 200 ``success: true`` with ``failedOrders`` (the
recorded form) or 460 (``partial_upload_status=460``; ``crm_uploads``), the
50-item upload limit, page limits 20/50/100, history by ``sinceId`` with
``apiKey.current`` per reading key, references each in its own form
(``reference/stores`` a list; ``crm_references``), bodies with the keys a
real account computes (``crm_bodies``; ``payments`` keyed by id in GET, list
and edit answers, ``crm_payments``), the payments, tasks and users endpoints
(``crm_order_work``), stock (``store/inventories``, ``…/upload``;
``crm_inventories``), and a per-key rate limit answered with 503 (10
requests/s by default, configurable).
``GET /api/credentials`` (unversioned) answers each key's scopes and sites
from ``access`` (every scope and site unless set).  Every answer carries a
``Date`` header, ``date_skew_seconds`` off the host's clock if asked.
Trouble on purpose (``crm_faults``): 5xx, 503, HTML pages, slowness, and
hangs whose write lands late — by a seeded share, or held on a schedule.
Dates in bodies (``createdAt``, ``generatedAt``) are naive, in the account's
``timezone`` (Moscow unless told), never the host's.

    app = SandboxCrm(api_keys=["demo-key"], requests_per_second=10)
    app = SandboxCrm(api_keys=["demo-key"], partial_upload_status=460)  # the other answer
    app.access["demo-key"] = KeyAccess(scopes=["order_read"])   # a narrower key
    # serve with waitress, or call in-process; app.state holds the data
    app.state.edit("order", order, {"status": "client-confirmed"}, author="user")  # a manager
"""

from __future__ import annotations

import json
import re
import threading
import time
from email.utils import formatdate
from urllib.parse import parse_qsl

from syncd_sandbox import crm_order_work
from syncd_sandbox.crm_faults import Faults
from syncd_sandbox.crm_faults import error_body as _error
from syncd_sandbox.crm_inventories import CrmInventories
from syncd_sandbox.crm_paging import pagination as _pagination
from syncd_sandbox.crm_paging import paging as _paging
from syncd_sandbox.crm_payments import order_answer
from syncd_sandbox.crm_references import reference_answer
from syncd_sandbox.crm_state import GROUP_OF, CrmRefusal, CrmState, KeyAccess
from syncd_sandbox.crm_uploads import PartialStatus, upload_answer

MANAGER_PREFIX = "/sandbox/manager/"


def nested(pairs: list[tuple[str, str]]) -> dict:
    """PHP bracket pairs (``filter[ids][]=1``, ``filter[ids][0]=1``) into nested dicts/lists."""
    out: dict = {}
    for key, value in pairs:
        names = [key.split("[", 1)[0]] + re.findall(r"\[([^\]]*)\]", key)
        node = out
        for i, name in enumerate(names):
            last = i == len(names) - 1
            nxt_is_list = not last and (names[i + 1] == "" or names[i + 1].isdigit())
            if last:
                if isinstance(node, list):
                    node.append(value)
                else:
                    node[name] = value
            elif isinstance(node, list):
                node.append([] if nxt_is_list else {})
                node = node[-1]
            else:
                node = node.setdefault(name, [] if nxt_is_list else {})
    return out


class SandboxCrm:
    def __init__(
        self,
        api_keys: list[str],
        *,
        requests_per_second: float | None = 10.0,
        sites: tuple[str, ...] = ("main",),
        clock=time.monotonic,  # noqa: ANN001
        account_exists: bool = True,
        html_503: bool = False,
        timezone: str = "Europe/Moscow",
        partial_upload_status: PartialStatus = 200,
    ) -> None:
        self.keys = set(api_keys)
        self.state = CrmState(sites, timezone)  # the account's zone: every date is written in it
        self.inventories = CrmInventories(self.state)  # store/inventories[/upload]
        self.rps = requests_per_second
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self.requests = 0
        self.writes: list[str] = []  # path of every POST (a write call), for tests
        self.throttled = 0
        self.max_body_bytes = 16 * 1024 * 1024  # served by syncd.web.HttpServer
        self.account_exists = account_exists  # False: answer like a mistyped account URL
        self.html_503 = html_503  # True: the rate-limit page comes as HTML, as nginx may send it
        # how an upload that goes in only in part is answered: 200 success:true, or 460
        self.partial_upload_status = partial_upload_status
        self.faults = Faults()
        self.access: dict[str, KeyAccess] = {}  # per key; unset: every scope and site
        self.date_skew_seconds = 0.0  # the Date header's offset from this host's clock

    # -- WSGI ------------------------------------------------------------------
    def __call__(self, environ: dict, start_response) -> list[bytes]:  # noqa: ANN001
        status, body = self.handle(environ)
        if isinstance(body, str):  # an HTML page, as nginx answers in front of the API
            payload, content_type = body.encode(), "text/html"
        else:
            payload = json.dumps(body, ensure_ascii=False).encode()
            content_type = "application/json; charset=utf-8"
        start_response(
            f"{status} {'OK' if status < 400 else 'Error'}",
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(payload))),
                ("Date", formatdate(time.time() + self.date_skew_seconds, usegmt=True)),
            ],
        )
        return [payload]

    def handle(self, environ: dict) -> tuple[int, dict | str]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        query = nested(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        form: dict = {}
        raw = ""
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length).decode("utf-8") if length else ""
            form = nested(parse_qsl(raw, keep_blank_values=True))
        if not self.account_exists:
            if method == "GET":
                return 404, _error("Account does not exist.")
            return 405, "<html><head><title>405 Not Allowed</title></head><body>nginx</body></html>"
        if method == "POST" and path.startswith(MANAGER_PREFIX):
            return self._as_manager(path[len(MANAGER_PREFIX) :], raw)
        headers = {k[5:].lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        key = headers.get("x_api_key") or query.get("apiKey") or form.get("apiKey")
        with self._lock:
            self.requests += 1
            if method == "POST":
                self.writes.append(path)
        if not key:
            return 403, _error('"apiKey" is missing.')
        if key not in self.keys:
            return 403, _error('Wrong "apiKey" value.')
        if not self._take(key):
            with self._lock:
                self.throttled += 1
            if self.html_503:
                return 503, "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"
            return 503, _error("Service temporary unavailable")
        fault = self.faults.roll(method, path)
        if fault is None:
            return self._answer(method, path, query, form, key)
        try:
            if fault.instead is not None:
                return fault.instead
            answer = self._answer(method, path, query, form, key)  # done, maybe late
            return fault.after or answer
        finally:
            fault.through()

    def _answer(self, method: str, path: str, query: dict, form: dict, key: str) -> tuple:
        if method == "GET" and path == "/api/credentials":
            return 200, self.access.get(key, KeyAccess()).credentials(self.state.sites)
        if not path.startswith("/api/v5/"):
            return 404, _error("Not found")
        try:
            return self.route(method, path[len("/api/v5/") :], {**query, **form}, key)
        except CrmRefusal as exc:
            return exc.status, _error(exc.message, exc.errors)
        except (ValueError, KeyError, TypeError) as exc:
            return 400, _error("Errors in the input parameters", [str(exc)])

    def _take(self, key: str) -> bool:
        """A token bucket of ``rps`` tokens, refilled continuously."""
        if not self.rps:
            return True
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.get(key, (self.rps, now))
            tokens = min(self.rps, tokens + (now - at) * self.rps)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1, now)
            return True

    # -- routes ----------------------------------------------------------------
    def route(self, method: str, path: str, p: dict, key: str) -> tuple[int, dict]:
        s = self.state
        parts = path.split("/")
        if method == "GET" and path.startswith("reference/"):
            return 200, {"success": True, **reference_answer(parts[1], self.state.sites)}
        if method == "GET" and path == "custom-fields":
            limit, page = _paging(p, allowed=(20, 50, 100, 250))
            return 200, {
                "success": True,
                "customFields": [],
                "pagination": _pagination(0, limit, page),
            }
        if method == "GET" and path == "store/inventories":
            return self.inventories.listing(p)
        if method == "POST" and path == "store/inventories/upload":
            return self.inventories.upload(p)
        if method == "POST" and path == "customers/combine":
            return self._combine(json.loads(p["customers"]), json.loads(p["resultCustomer"]), key)
        if crm_order_work.handles(path):  # payments, tasks, users
            return crm_order_work.answer(s, method, path, p, key)
        if parts[0] not in ("orders", "customers"):
            return 404, _error("Not found")
        entity = parts[0][:-1]
        rest = parts[1:]
        with s.lock:
            if method == "GET" and not rest:
                return 200, self._list(entity, p)
            if method == "GET" and rest == ["history"]:
                return 200, self._history(entity, p, key)
            if method == "GET" and rest == ["statuses"] and entity == "order":
                return 200, self._statuses(p)
            if method == "GET" and len(rest) == 1:
                obj = s.find(entity, rest[0], p.get("by", "externalId"), p.get("site"))
                if obj is None:
                    return 404, _error("Not found")
                return 200, {"success": True, entity: _answered(entity, obj, "get")}
            if method == "POST" and rest == ["create"]:
                obj = s.create(entity, json.loads(p[entity]), p.get("site"), key)
                return 201, {"success": True, "id": obj["id"], entity: _out(obj)}
            if method == "POST" and len(rest) == 2 and rest[1] == "edit":
                obj = s.find(entity, rest[0], p.get("by", "externalId"), p.get("site"))
                if obj is None:
                    return 404, _error("Not found")
                s.edit(entity, obj, json.loads(p[entity]), key)
                answered = _answered(entity, obj, "edit")
                return 200, {"success": True, "id": obj["id"], entity: answered}
            if method == "POST" and rest == ["upload"]:
                items = json.loads(p[parts[0]])
                status = self.partial_upload_status
                return upload_answer(s, entity, items, p.get("site"), key, partial_status=status)
            if method == "POST" and rest == ["fix-external-ids"]:
                for pair in json.loads(p[parts[0]]):
                    obj = s.find(entity, str(pair["id"]), "id", None)
                    if obj is None:
                        return 404, _error("Not found")
                    s.edit(entity, obj, {"externalId": pair["externalId"]}, key)
                return 200, {"success": True}
        return 404, _error("Not found")

    def _list(self, entity: str, p: dict) -> dict:
        f = p.get("filter") or {}
        items = list(self.state.records[entity].values())
        if f.get("ids"):
            items = [o for o in items if str(o["id"]) in set(map(str, f["ids"]))]
        if f.get("externalIds"):
            items = [o for o in items if o.get("externalId") in set(f["externalIds"])]
        if f.get("sites"):
            items = [o for o in items if o["site"] in set(f["sites"])]
        if f.get("name"):
            needle = f["name"].lower()
            items = [o for o in items if needle in _searchable(o)]
        if f.get("email"):
            items = [o for o in items if str(o.get("email", "")).lower() == f["email"].lower()]
        limit, page = _paging(p)
        return {
            "success": True,
            "pagination": _pagination(len(items), limit, page),
            f"{entity}s": [
                _answered(entity, o, "list") for o in items[(page - 1) * limit : page * limit]
            ],
        }

    def _history(self, entity: str, p: dict, key: str) -> dict:
        f = p.get("filter") or {}
        records = self.state.history_for(
            entity,
            key,
            int(f.get("sinceId") or 0),
            f.get("startDate"),
            about=(f.get(f"{entity}Id"), f.get(f"{entity}ExternalId")),
        )
        limit, page = _paging(p)
        return {
            "success": True,
            "generatedAt": self.state.now(),
            "history": records[(page - 1) * limit : page * limit],
            "pagination": _pagination(len(records), limit, page),
        }

    def _statuses(self, p: dict) -> dict:
        wanted_ids = set(map(str, p.get("ids") or []))
        wanted_ext = set(p.get("externalIds") or [])
        found = [
            o
            for o in self.state.records["order"].values()
            if str(o["id"]) in wanted_ids or o.get("externalId") in wanted_ext
        ]
        return {
            "success": True,
            "orders": [
                {
                    "id": o["id"],
                    "externalId": o.get("externalId"),
                    "status": o["status"],
                    "group": GROUP_OF[o["status"]],
                }
                for o in found
            ],
        }

    def _combine(self, duplicates: list, result: dict, key: str) -> tuple[int, dict]:
        """Merge duplicates into the result customer; the merged-away ones disappear."""
        s = self.state
        with s.lock:
            survivor = s.find("customer", str(result["id"]), "id", None)
            gone = [s.find("customer", str(d["id"]), "id", None) for d in duplicates]
            if survivor is None or None in gone:
                return 404, _error("Not found")
            for dup in gone:
                del s.records["customer"][dup["id"]]
                s.record_deleted("customer", dup, key, combined_to=survivor["id"])
        return 200, {"success": True}

    def _as_manager(self, rest: str, raw: str) -> tuple[int, dict]:
        """``POST /sandbox/manager/orders/<id>`` with a JSON body: a manager edits an order."""
        entity, _, object_id = rest.partition("/")
        if entity not in ("orders", "customers"):
            return 404, _error("Not found")
        changes = json.loads(raw or "{}")
        try:
            with self.state.lock:
                obj = self.state.find(entity[:-1], object_id, "id", None)
                if obj is None:
                    return 404, _error("Not found")
                self.state.edit(entity[:-1], obj, changes, author="user")
        except CrmRefusal as exc:
            return exc.status, _error(exc.message, exc.errors)
        return 200, {"success": True, entity[:-1]: _out(obj)}


def _searchable(obj: dict) -> str:
    """What filter[name] searches: names and phones (phones also as bare digits)."""
    phones = " ".join(str(p.get("number", "")) for p in obj.get("phones") or [])
    digits = [
        "".join(ch for ch in str(p.get("number", "")) if ch.isdigit())
        for p in obj.get("phones") or []
    ]
    phones += " " + " ".join(digits)
    names = f"{obj.get('firstName', '')} {obj.get('lastName', '')}"
    return f"{names} {obj.get('phone', '')} {phones}".lower()


def _out(obj: dict) -> dict:
    return json.loads(json.dumps(obj))


def _answered(entity: str, obj: dict, kind: str) -> dict:
    """An order with ``payments`` as answers of ``kind`` show them (``crm_payments``)."""
    return order_answer(obj, kind) if entity == "order" else _out(obj)
