"""A 1C that answers with the real-shaped fixtures of ``tests/fixtures/onec/``.

Not an emulator: it replays what a real УТ 11 publication answers (written
after the recordings the reference describes, §0 items 21–24) for the few
requests syncd's 1C sources make — ``$metadata``, the exchange node,
``SelectChanges`` (message 1 is the package, later ones empty),
``NotifyChangesReceived``, an order by key and the order set as JSON.  A
write is refused (405) and recorded, so a test sees syncd never wrote.

    with recorded_erp() as (erp, url):      # url: …/odata/standard.odata/
        ...; erp.confirmed, erp.writes
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, unquote

from tests.support.paths import FIXTURES as ROOT_FIXTURES
from tests.support.serve import serving

FIXTURES = ROOT_FIXTURES / "onec"
PREFIX = "/ut11_demo/odata/standard.odata/"
PLAN = "ExchangePlan_СинхронизацияSyncd"
NODE = "3c0a9f51-1d44-11ef-9a1b-00155d0a1c01"
ORDERS = "Document_ЗаказКлиента"
EMPTY_FEED = (
    '<feed xmlns="http://www.w3.org/2005/Atom" '
    'xmlns:at="http://purl.org/atompub/tombstones/1.0" '
    'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
    'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" '
    'xml:base="{base}">\n</feed>\n'
)
BY_KEY = re.compile(r"^(?P<set>[^(]+)\(guid'(?P<ref>[0-9a-fA-F-]{36})'\)$")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class RecordedErp:
    max_body_bytes = 1_000_000

    def __init__(self, package: bytes | None = None) -> None:
        self.metadata = fixture("metadata.xml")
        self.package = package if package is not None else fixture("select_changes_orders.xml")
        self.orders = json.loads(fixture("orders.json"))["value"]
        self.confirmed: list[int] = []
        self.writes: list[tuple[str, str]] = []
        self.requests: list[tuple[str, str]] = []

    def __call__(self, environ: dict, start_response) -> list[bytes]:  # noqa: ANN001
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
        options = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        self.requests.append((method, path))
        base = f"http://{environ['HTTP_HOST']}{PREFIX}"
        status, kind, body = self.answer(method, unquote(path[len(PREFIX) :]), options, base)
        start_response(status, [("Content-Type", kind)])
        return [body]

    def answer(self, method: str, rest: str, options: dict, base: str) -> tuple[str, str, bytes]:
        atom, js = "application/atom+xml;type=feed;charset=utf-8", "application/json;charset=utf-8"
        if rest == "$metadata":
            return "200 OK", "application/xml;charset=utf-8", self.metadata
        if rest == f"{PLAN}(guid'{NODE}')":
            node = {
                "odata.metadata": f"{base}$metadata#{PLAN}/@Element",
                "Ref_Key": NODE,
                "DataVersion": "AAAAAAAAAAE=",
                "DeletionMark": False,
                "Code": "syncd",
                "Description": "syncd",
                "SentNo": "1",
                "ReceivedNo": "0",
                "ThisNode": False,
            }
            return "200 OK", js, json.dumps(node, ensure_ascii=False).encode()
        if rest == "SelectChanges" and method == "POST":
            number = int(options["MessageNo"])
            body = self.package if number == 1 else EMPTY_FEED.format(base=base).encode()
            return "200 OK", atom, body
        if rest == "NotifyChangesReceived" and method == "POST":
            self.confirmed.append(int(options["MessageNo"]))
            return "200 OK", "text/plain", b""
        if method != "GET":
            self.writes.append((method, rest))
            return "405 Method Not Allowed", js, b'{"odata.error":{"code":"19"}}'
        found = BY_KEY.match(rest)
        if found and found["set"] == ORDERS:
            for order in self.orders:
                if order["Ref_Key"] == found["ref"].lower():
                    element = {"odata.metadata": f"{base}$metadata#{ORDERS}/@Element", **order}
                    return "200 OK", js, json.dumps(element, ensure_ascii=False).encode()
            return "404 Not Found", js, b'{"odata.error":{"code":"9"}}'
        if rest == ORDERS:
            skip, top = int(options.get("$skip", 0)), int(options.get("$top", 1000))
            page = {"odata.metadata": f"{base}$metadata#{ORDERS}", "value": []}
            page["value"] = self.orders[skip : skip + top]
            return "200 OK", js, json.dumps(page, ensure_ascii=False).encode()
        return "404 Not Found", js, b'{"odata.error":{"code":"6"}}'


@contextmanager
def recorded_erp(package: bytes | None = None) -> Iterator[tuple[RecordedErp, str]]:
    app = RecordedErp(package)
    with serving(app) as url:
        yield app, url + PREFIX
