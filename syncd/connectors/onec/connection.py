"""One 1C connection per base, shared by every stream and sink of the process.

The concurrency cap and the request rate in ``erp:`` are for the base as a
whole: every part that talks to the same publication with the same settings
gets the same ``ODataClient`` (and so the same semaphore and pacer).  A
reload with other settings gets a fresh client.

    erp = erp_client_for(context)          # from the part's PartContext
    zone = erp_zone(context.settings.erp)
"""

from __future__ import annotations

import threading
from typing import Any
from zoneinfo import ZoneInfo

from syncd.connectors.onec.odata import ODataClient
from syncd.connectors.onec.soap import ErpSoapClient
from syncd.connectors.pacing import Pacer

_clients: dict[tuple, ODataClient] = {}
_soap_clients: dict[tuple, ErpSoapClient] = {}
_lock = threading.Lock()


def erp_zone(erp: Any) -> ZoneInfo:
    try:
        return ZoneInfo(erp.timezone)
    except (KeyError, ValueError):
        raise ValueError(f"erp.timezone: unknown time zone {erp.timezone!r}") from None


def erp_client_for(context: Any) -> ODataClient:
    """The shared OData client of the configured base; ValueError if it is not configured."""
    erp = context.settings.erp
    if not erp.odata_url or not erp.user or erp.password is None:
        raise ValueError(
            "needs erp.odata_url, erp.user and erp.password "
            "(SYNCD_ERP_ODATA_URL, SYNCD_ERP_USER, SYNCD_ERP_PASSWORD)"
        )
    erp_zone(erp)
    password = erp.password.get_secret_value()
    key = (
        erp.odata_url.rstrip("/"),
        erp.user,
        hash(password),
        erp.max_concurrency,
        erp.requests_per_second,
        erp.timeout_seconds,
        erp.page_size,
        erp.page_bytes,
    )
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = ODataClient(
                erp.odata_url,
                erp.user,
                password,
                max_concurrency=erp.max_concurrency,
                per_second=erp.requests_per_second,
                timeout=(10.0, erp.timeout_seconds),
                page_size=erp.page_size,
                page_bytes=erp.page_bytes,
                metrics=context.metrics,
            )
        else:
            client.forget_metadata()  # parts are built at start and reload: read it afresh
        return client


def erp_soap_for(context: Any) -> ErpSoapClient:
    """The shared client of the configured web service.  It keeps to the base's cap and
    rate together with the OData client where OData is configured too (one base)."""
    erp = context.settings.erp
    if not erp.soap.wsdl_url or not erp.user or erp.password is None:
        raise ValueError(
            "needs erp.soap.wsdl_url, erp.user and erp.password for SOAP "
            "(SYNCD_ERP_USER, SYNCD_ERP_PASSWORD)"
        )
    odata = erp_client_for(context) if erp.odata_url else None
    password = erp.password.get_secret_value()
    key = (
        erp.soap.wsdl_url,
        erp.user,
        hash(password),
        tuple(sorted(erp.soap.operations.items())),
        erp.soap.soap_action,
        erp.max_concurrency,
        erp.requests_per_second,
        erp.timeout_seconds,
        id(odata),
    )
    with _lock:
        client = _soap_clients.get(key)
        if client is None:
            if odata is not None:
                limits = {"gate": odata.gate, "pacer": odata.pacer}
            else:  # SOAP alone: the same cap and rate, its own
                limits = {
                    "gate": threading.BoundedSemaphore(erp.max_concurrency),
                    "pacer": Pacer(erp.requests_per_second),
                }
            client = _soap_clients[key] = ErpSoapClient(
                erp.soap.wsdl_url,
                erp.user,
                password,
                operations=erp.soap.operations,
                timeout=(10.0, erp.timeout_seconds),
                metrics=context.metrics,
                soap_action=erp.soap.soap_action,
                **limits,
            )
        else:
            client.forget_wsdl()  # parts are built at start and reload: read it afresh
    return client
