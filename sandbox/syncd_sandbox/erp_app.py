"""The sandbox 1C over HTTP: a WSGI app answering like a published УТ 11 base.

``/odata/standard.odata/`` serves the service document, ``$metadata``, sets
(JSON with ``$format=json`` or ``Accept: application/json``, Atom otherwise),
entities by key, ``$count``, POST/PATCH/DELETE, ``…/Post`` and ``…/Unpost``,
the exchange plan's ``SelectChanges`` / ``NotifyChangesReceived``, and the stock
register's ``Balance`` virtual table (``erp_balance``).  The
quirks are 1C's: Int64 as strings, ``odata.count`` a string and
``$inlinecount`` ignoring ``$skip``/``$top``, ``odata.error`` bodies with the
platform's codes, 500 with code -1 for application refusals, ``+`` not read
as a space.  Basic auth is read as UTF-8; ``html_auth_errors`` answers a bad
login with an HTML page and status 200, as a misconfigured publication does.

``/sandbox/user/…`` acts as a 1C user (no auth; sandbox only): POST
``orders`` (a new site order), ``orders/<ref>/ship|close|cancel|edit``.
``in_flight``/``peak`` count concurrent requests, for the read benchmark.
Every answer carries a ``Date`` header, ``date_skew_seconds`` off the host's
clock if asked (as a 1C server with a wrong clock would).

    app = SandboxErp(user="Обмен", password="secret"); app.trade.seed(customers=50)
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from email.utils import formatdate
from typing import Any
from urllib.parse import quote, unquote

from syncd_sandbox.erp_atom import atom_feed, entity_url
from syncd_sandbox.erp_balance import REGISTER as STOCK_REGISTER
from syncd_sandbox.erp_balance import VIRTUAL_TABLE, balance, records_of
from syncd_sandbox.erp_balance import answer as balance_answer
from syncd_sandbox.erp_business import Trade
from syncd_sandbox.erp_faults import ErpFaults
from syncd_sandbox.erp_query import ODataFault, compile_filter, order_rows, select_fields
from syncd_sandbox.erp_routes import parse_key, parse_resource, soap_service, user_action
from syncd_sandbox.erp_schema import EXCHANGE_PLAN, SCHEMA, metadata_xml
from syncd_sandbox.erp_state import ErpState
from syncd_sandbox.erp_syncd_exchange import NAME as SYNCD_WS
from syncd_sandbox.erp_syncd_exchange import syncd_exchange_service

PREFIX = "/odata/standard.odata/"
HTML_PAGE = (
    "<html><head><title>1C:Enterprise 8</title></head><body>"
    "<h1>Ошибка доступа</h1><p>{}</p></body></html>"
)


class SandboxErp:
    max_body_bytes = 50_000_000

    def __init__(
        self,
        *,
        user: str | None = None,
        password: str | None = None,
        timezone: str = "Europe/Moscow",
        html_auth_errors: bool = False,
        slow_seconds: float = 0.0,
        fail_share: float = 0.0,
        seed: int = 1,
        enforce_if_match: bool = False,
        atom_scalar_types: bool = False,
    ) -> None:
        self.state = ErpState(timezone)
        self.trade = Trade(self.state)
        self.node = self.trade.plan.add_node("syncd", "syncd (sandbox)")
        self.user, self.password = user, password
        self.html_auth_errors = html_auth_errors
        self.enforce_if_match = enforce_if_match  # documented 412; a live УТ 11 ignored it
        # recorded packages type no scalar; a switch for the other shape
        self.atom_scalar_types = atom_scalar_types
        self.slow_seconds = slow_seconds
        self.faults = ErpFaults(unavailable=fail_share, seed=seed)  # or set your own
        self._count_lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.requests: list[tuple[str, str]] = []  # (method, path) of every OData request
        self.data_load_headers = 0
        # the web service syncd ships (contrib/1c/SyncdExchange): /ws/SyncdExchange.1cws
        self.syncd_ws = syncd_exchange_service(self.trade, user, password)
        # an integrator's own service with Cyrillic names: /ws/ОбменЗаказами.1cws
        self.soap = soap_service(self.trade, user, password)
        self.date_skew_seconds = 0.0  # the Date header's offset from this host's clock
        self.unavailable_posts = 0  # the next N …/Post calls answer 503 and post nothing
        self._balance_rng = random.Random(seed)  # Balance's $top: an arbitrary subset

    # -- WSGI ------------------------------------------------------------------
    def __call__(self, environ: dict, start_response) -> list[bytes]:  # noqa: ANN001
        with self._count_lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            status, headers, body = self.handle(environ)
        finally:
            with self._count_lock:
                self.in_flight -= 1
        date = formatdate(time.time() + self.date_skew_seconds, usegmt=True)
        headers = [*(h for h in headers if h[0].lower() != "date"), ("Date", date)]
        start_response(f"{status} {_REASONS.get(status, 'Status')}", headers)
        return [body]

    def reset_counters(self) -> None:
        with self._count_lock:
            self.peak, self.requests = self.in_flight, []

    def handle(self, environ: dict) -> tuple[int, list, bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        if path.startswith("/sandbox/user/"):
            return _json_reply(*user_action(self.trade, method, path[14:], _body(environ)))
        if path.startswith("/ws/"):
            service = self.syncd_ws if f"/ws/{SYNCD_WS}.1cws" in path else self.soap
            replies: list = []
            chunks = service(environ, lambda status, headers: replies.append((status, headers)))
            return int(replies[0][0].split()[0]), replies[0][1], b"".join(chunks)
        if not path.startswith(PREFIX.rstrip("/")):
            return 404, [("Content-Type", "text/html")], b"<html>404 Not Found</html>"
        denied = self._authenticate(environ)
        if denied:
            return denied
        if self.slow_seconds:
            time.sleep(self.slow_seconds)
        fault = self.faults.before()
        if fault is not None:
            return fault
        options = _options(environ.get("QUERY_STRING", ""))
        json_wanted = "json" in options.get("$format", "") or "json" in environ.get(
            "HTTP_ACCEPT", ""
        )
        self.requests.append((method, path))
        if environ.get("HTTP_1C_ODATA_DATALOADMODE"):
            self.data_load_headers += 1
        try:
            answer = self.route(method, path[len(PREFIX) :], options, environ, json_wanted)
            if method != "GET":
                self.faults.after_write()  # done; maybe the answer never reaches the client
            return answer
        except ODataFault as fault:
            return _error(fault, json_wanted)
        except (ValueError, KeyError) as exc:
            return _error(ODataFault(400, 2, f"bad request format: {exc}"), json_wanted)

    def _authenticate(self, environ: dict) -> tuple[int, list, bytes] | None:
        if self.user is None:
            return None
        given = environ.get("HTTP_AUTHORIZATION", "")
        try:
            scheme, encoded = given.split(" ", 1)
            user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
            ok = scheme.lower() == "basic" and (user, password) == (self.user, self.password)
        except (ValueError, UnicodeDecodeError):
            ok = False
        if ok:
            return None
        if self.html_auth_errors:
            page = HTML_PAGE.format("Идентификация пользователя не выполнена").encode("utf-8")
            return 200, [("Content-Type", "text/html; charset=utf-8")], page
        return 401, [("WWW-Authenticate", 'Basic realm="1C"'), ("Content-Type", "text/plain")], b""

    # -- OData -----------------------------------------------------------------
    def base_url(self, environ: dict) -> str:
        host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        return f"http://{host}{PREFIX}"

    def route(
        self, method: str, rest: str, options: dict, environ: dict, json_wanted: bool
    ) -> tuple[int, list, bytes]:
        base = self.base_url(environ)
        if rest in ("", "/"):
            names = [{"name": n, "url": n} for n in SCHEMA]
            return _json_reply(200, {"odata.metadata": base + "$metadata", "value": names})
        if rest == "$metadata":
            return 200, [("Content-Type", "application/xml;charset=utf-8")], metadata_xml()
        if rest in ("SelectChanges", "NotifyChangesReceived") and method == "POST":
            return self.exchange(rest, options, base)
        virtual = VIRTUAL_TABLE.match(rest)
        if virtual is not None and method == "GET":  # the stock register's Balance
            records = records_of(self.state.rows(STOCK_REGISTER))
            rows = balance(records, virtual.group("args"), options, self._balance_rng)
            return _json_reply(200, balance_answer(base, rows))
        set_name, key_text, action = parse_resource(rest)
        schema = self.state.schema(set_name)
        key = parse_key(key_text, schema) if key_text is not None else None
        data_load = bool(environ.get("HTTP_1C_ODATA_DATALOADMODE"))
        if action in ("Post", "Unpost") and key is not None and method == "POST":
            if action == "Post" and self.unavailable_posts > 0:
                self.unavailable_posts -= 1  # 1C busy: the posting did not happen
                return 503, [("Content-Type", "text/html")], HTML_PAGE.format("503").encode()
            do = self.trade.post if action == "Post" else self.trade.unpost
            return self.entity_reply(base, set_name, do(set_name, key), json_wanted)
        if action == "$count" and key is None:
            count = len(self._filtered(set_name, options))
            return 200, [("Content-Type", "text/plain;charset=utf-8")], str(count).encode()
        if action is not None:
            raise ODataFault(400, 6, f"segment not found: {action}")
        if method == "GET" and key is None:
            return self.collection(base, set_name, options, json_wanted)
        if method == "GET":
            return self.entity_reply(base, set_name, self.state.get(set_name, key), json_wanted)
        if method == "POST" and key is None:
            row = self.trade.write(set_name, None, _body(environ), data_load=data_load)
            status, headers, body = self.entity_reply(base, set_name, row, json_wanted)
            location = quote(entity_url(base, set_name, row), safe=":/()'=,")
            return 201, [*headers, ("Location", location)], body
        if method in ("PATCH", "MERGE") and key is not None:
            expected = environ.get("HTTP_IF_MATCH", "").strip('"')
            current = self.state.get(set_name, key).get("DataVersion")
            if self.enforce_if_match and expected and expected != current:
                raise ODataFault(412, 0, f"object changed: version {current}, not {expected}")
            row = self.trade.write(set_name, key, _body(environ), data_load=data_load)
            return self.entity_reply(base, set_name, row, json_wanted)
        if method == "DELETE" and key is not None:
            self.state.remove(set_name, key)
            return 204, [], b""
        raise ODataFault(405, 19, f"HTTP method not allowed: {method}")

    def _filtered(self, set_name: str, options: dict) -> list[dict]:
        schema = SCHEMA[set_name]
        rows = self.state.rows(set_name)
        if options.get("$filter"):
            match = compile_filter(options["$filter"], schema)
            rows = [r for r in rows if match(r)]
        return rows

    def collection(
        self, base: str, set_name: str, options: dict, json_wanted: bool
    ) -> tuple[int, list, bytes]:
        schema = SCHEMA[set_name]
        rows = order_rows(self._filtered(set_name, options), options.get("$orderby"), schema)
        count = len(rows)
        if options.get("$inlinecount") != "allpages":  # with it, 1C ignores $skip and $top
            skip = _int(options.get("$skip"), "$skip")
            top = _int(options.get("$top"), "$top")
            rows = rows[skip:][:top] if top is not None else rows[skip:]
        rows = [select_fields(r, options.get("$select"), schema) for r in rows]
        if not json_wanted:
            body = self.feed(base, [(set_name, r) for r in rows])
            return 200, [("Content-Type", "application/atom+xml;charset=utf-8")], body
        reply: dict[str, Any] = {"odata.metadata": f"{base}$metadata#{set_name}"}
        if options.get("$inlinecount") == "allpages":
            reply["odata.count"] = str(count)
        reply["value"] = [wire(set_name, r) for r in rows]
        return _json_reply(200, reply, options)

    def entity_reply(
        self, base: str, set_name: str, row: dict, json_wanted: bool
    ) -> tuple[int, list, bytes]:
        if not json_wanted:
            body = self.feed(base, [(set_name, row)])
            return 200, [("Content-Type", "application/atom+xml;charset=utf-8")], body
        return _json_reply(
            200, {"odata.metadata": f"{base}$metadata#{set_name}/@Element", **wire(set_name, row)}
        )

    def feed(self, base: str, entries: list, deleted: list[str] | None = None) -> bytes:
        """Atom as this base writes it (untyped scalars unless ``atom_scalar_types``)."""
        return atom_feed(
            base, entries, deleted, now=self.state.now(), scalar_types=self.atom_scalar_types
        )

    def exchange(self, action: str, options: dict, base: str) -> tuple[int, list, bytes]:
        point = options.get("DataExchangePoint", "").strip("'")
        marker = f"{EXCHANGE_PLAN}(guid'"
        if marker not in point:
            raise ODataFault(400, 12, "required argument missing: DataExchangePoint")
        node = point.split(marker, 1)[1].split("'", 1)[0]
        message_no = _int(options.get("MessageNo"), "MessageNo")
        if message_no is None:
            raise ODataFault(400, 12, "required argument missing: MessageNo")
        if action == "NotifyChangesReceived":
            self.trade.plan.confirm(node, message_no)
            return 200, [("Content-Type", "text/plain")], b""
        changes = self.trade.plan.select(node, message_no)
        live = [(s, row) for s, _, row in changes if row is not None]
        gone = [
            entity_url(base, s, dict(zip(SCHEMA[s].key, k, strict=True)))
            for s, k, r in changes
            if not r
        ]
        body = self.feed(base, live, deleted=gone)
        return 200, [("Content-Type", "application/atom+xml;charset=utf-8")], body


def wire(set_name: str, row: dict, base: str = "") -> dict:
    """A stored row as 1C's JSON: Int64 as strings, tabular rows alike (each with the
    object's ``Ref_Key``), and ``X@navigationLinkUrl`` for every reference."""
    schema = SCHEMA[set_name]
    out = {}
    for name, value in row.items():
        if schema.fields.get(name) == "Edm.Int64" and value is not None:
            out[name] = str(value)
        elif name in schema.tabular:
            columns = schema.tabular[name]
            out[name] = [
                {k: str(v) if columns.get(k) == "Edm.Int64" else v for k, v in line.items()}
                for line in value
            ]
        else:
            out[name] = value
    if schema.key == ("Ref_Key",) and row.get("Ref_Key"):
        here = f"{set_name}(guid'{row['Ref_Key']}')"
        for ref in schema.references:
            if ref in row:
                out[f"{ref[:-4]}@navigationLinkUrl"] = f"{here}/{ref[:-4]}"
    return out


def _options(query: str) -> dict[str, str]:
    """Query options decoded like 1C does: %XX as UTF-8, and ``+`` stays a plus."""
    out = {}
    for pair in query.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            out[unquote(name)] = unquote(value)
    return out


def _int(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ODataFault(400, 14, f"query option parse error: {name}={value}") from None


def _body(environ: dict) -> Any:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    if not raw:
        return {}
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except ValueError:
        raise ODataFault(500, -1, "Ошибка разбора JSON") from None


def _json_reply(status: int, body: Any, options: dict | None = None) -> tuple[int, list, bytes]:
    if options and "nometadata" in options.get("$format", "") and isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "odata.metadata"}
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return status, [("Content-Type", "application/json;charset=utf-8")], data


def _error(fault: ODataFault, json_wanted: bool) -> tuple[int, list, bytes]:
    if json_wanted:
        body = {
            "odata.error": {
                "code": str(fault.code),
                "message": {"lang": "ru", "value": fault.message},
            }
        }
        return _json_reply(fault.status, body)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><m:error xmlns:m="http://schemas.microsoft.com/'
        f'ado/2007/08/dataservices/metadata"><m:code>{fault.code}</m:code>'
        f'<m:message xml:lang="ru">{_escape(fault.message)}</m:message></m:error>'
    )
    return fault.status, [("Content-Type", "application/xml;charset=utf-8")], xml.encode("utf-8")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
