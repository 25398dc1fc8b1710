"""The requests ``syncd check`` sends to 1C and RetailCRM, each sent once and shared.

``ErpProbe`` reads 1C's ``$metadata`` with syncd's own OData client (UTF-8
Basic auth, typed errors), once; ``CrmProbe`` reads the key's
``GET /api/credentials`` (unversioned: scopes, site access) and the order
statuses, and an empty history page whose ``generatedAt`` shows the account's
time zone.  No retries and short timeouts: an admin at a prompt wants an
answer now.  Every answer's ``Date`` is collected for the clock checks.
Secrets travel in headers only, so no error message here can carry one.

    erp = ErpProbe(settings.erp, timeout=15); erp.metadata.get()
    crm = CrmProbe(settings.crm, timeout=15); crm.credentials.get()["scopes"]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from syncd.connectors.http import counted_session
from syncd.connectors.onec.exchange_source import ExchangeNode
from syncd.connectors.onec.metadata import Metadata
from syncd.connectors.onec.odata import ODataClient
from syncd.connectors.retailcrm.client import CrmClient
from syncd.connectors.retailcrm.errors import error_for
from syncd.connectors.retailcrm.transport import CrmTransport
from syncd.doctor.clock import ServerClocks, parse_http_date
from syncd.doctor.result import Shared


def describe_network_error(exc: BaseException, timeout: float) -> str:
    """A connection failure in a few words ("connection refused"), not urllib3's paragraph."""
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g} s"
    text = str(exc)
    found = re.findall(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if found:
        return found[-1].strip().rstrip(".").lower()
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the server closed the connection"
    return type(exc).__name__


class ErpProbe:
    def __init__(self, erp: Any, timeout: float) -> None:
        self.url = erp.odata_url
        self.user = erp.user
        self.configured = bool(erp.odata_url and erp.user and erp.password is not None)
        self.clocks = ServerClocks()
        self.client: ODataClient | None = None
        if self.configured:
            self.client = ODataClient(
                erp.odata_url,
                erp.user,
                erp.password.get_secret_value(),
                max_concurrency=2,
                per_second=erp.requests_per_second,
                timeout=(timeout, timeout),
                attempts=1,
            )
            self.client.session.hooks["response"].append(self.clocks.hook)
        self.metadata: Shared[Metadata] = Shared(self._metadata)

    def _metadata(self) -> Metadata:
        if self.client is None:
            raise ValueError("erp.odata_url, erp.user or erp.password is not set")
        return self.client.metadata()

    def node_received_no(self, plan: str, node: str) -> int:
        """The exchange-plan node's ReceivedNo; ErpNotFound when 1C has no such node."""
        assert self.client is not None
        return ExchangeNode(self.client, plan, node).received_no()


class CrmProbe:
    def __init__(self, crm: Any, timeout: float) -> None:
        self.url = crm.url
        self.site = crm.site
        self.timeout = timeout
        self.configured = bool(crm.url and crm.api_key is not None)
        self.clocks = ServerClocks()
        self._key = crm.api_key.get_secret_value() if crm.api_key is not None else ""
        self.credentials: Shared[dict] = Shared(self._credentials)
        self.statuses: Shared[dict[str, dict]] = Shared(self._statuses)

    def _credentials(self) -> dict:
        """``GET /api/credentials``: ``scopes``, ``siteAccess``, ``sitesAvailable``."""
        if not self.configured:
            raise ValueError("crm.url or crm.api_key is not set")
        session = counted_session("crm", None)
        session.hooks["response"].append(self.clocks.hook)
        try:
            response = session.get(
                self.url.rstrip("/") + "/api/credentials",
                headers={"X-API-KEY": self._key, "Accept": "application/json"},
                timeout=(self.timeout, self.timeout),
            )
        finally:
            session.close()
        try:
            body = response.json()
        except ValueError:
            body = None
        content_type = response.headers.get("Content-Type", "")
        if response.status_code == 200 and isinstance(body, dict) and body.get("success"):
            return body
        raise error_for(
            response.status_code if response.status_code != 200 else 400, body, content_type
        )

    def _transport(self) -> CrmTransport:
        if not self.configured:
            raise ValueError("crm.url or crm.api_key is not set")
        transport = CrmTransport(
            self.url,
            self._key,
            site=self.site,
            per_second=5.0,
            owner="syncd check",
            timeout=(self.timeout, self.timeout),
            attempts=1,
        )
        transport.session.hooks["response"].append(self.clocks.hook)
        return transport

    def _statuses(self) -> dict[str, dict]:
        transport = self._transport()
        try:
            return CrmClient(transport).statuses()
        finally:
            transport.close()

    def account_time(self, entity: str = "order") -> AccountTime:
        """The account's wall clock (an empty history page's ``generatedAt``) and the ``Date``
        of that answer: how far apart they are is the account's UTC offset."""
        transport = self._transport()
        dates: list[float | None] = []
        transport.session.hooks["response"].append(
            lambda response, *a, **k: dates.append(parse_http_date(response.headers.get("Date")))
        )
        # a start two days ahead in any zone: no record comes back, only generatedAt
        ahead = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
        try:
            body = transport.get(f"{entity}s/history", {"filter": {"startDate": ahead}})
        finally:
            transport.close()
        return AccountTime(str(body.get("generatedAt") or ""), dates[-1] if dates else None)


@dataclass(frozen=True)
class AccountTime:
    generated_at: str  # naive Y-m-d H:i:s, the account's local time ("" if not sent)
    date: float | None  # the same answer's Date header, epoch seconds
