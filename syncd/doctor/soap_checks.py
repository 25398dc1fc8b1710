"""Checks of the 1C web service (``erp.soap``), when a part of the configuration uses it.

One row for the service — the WSDL answers at ``erp.soap.wsdl_url`` with syncd's
credentials, and offers every operation the configuration calls (``erp_soap``
sources: Describe, ReceivedNo, SelectChanges, NotifyChangesReceived; the ``erp``
sink with ``status_via: soap``: SetOrderStatus, and GetObject where no OData is
configured) — and, for each ``erp_soap`` source, a row for its node: ``ReceivedNo``
answers for its code, and ``Describe`` lists the sets it reads.

    checks = soap_checks.planned(ctx)      # [(name, check), …]; [] when unused
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import requests

from syncd.connectors.onec.errors import ErpAccessDenied, ErpError
from syncd.connectors.onec.metadata import Metadata
from syncd.connectors.onec.soap import ErpSoapClient, ErpSoapFault, ErpUnsafeXml
from syncd.connectors.onec.soap_source import SoapObjects
from syncd.doctor.context import DoctorContext
from syncd.doctor.probes import describe_network_error
from syncd.doctor.result import Check, Shared

SERVICE = "1C web service"
CONTRIB = "contrib/1c/SyncdExchange (docs/onec.md, 'The SyncdExchange web service')"


class SoapProbe:
    """One client for the checks, one try per call (``syncd check`` waits for nobody)."""

    def __init__(self, ctx: DoctorContext) -> None:
        erp = ctx.settings.erp
        self.url = erp.soap.wsdl_url
        self.client: ErpSoapClient | None = None
        if erp.soap.wsdl_url and erp.user and erp.password is not None:
            self.client = ErpSoapClient(
                erp.soap.wsdl_url,
                erp.user,
                erp.password.get_secret_value(),
                operations=erp.soap.operations,
                timeout=(ctx.limits.timeout, ctx.limits.timeout),
                attempts=1,
                soap_action=erp.soap.soap_action,
            )
        self.operations: Shared[list[str]] = Shared(self._operations)
        self.metadata: Shared[Metadata] = Shared(self._describe)

    def _operations(self) -> list[str]:
        if self.client is None:
            raise ValueError("erp.soap.wsdl_url, erp.user or erp.password is not set")
        return self.client.available()

    def _describe(self) -> Metadata:
        assert self.client is not None
        return SoapObjects(self.client).metadata()


def planned(ctx: DoctorContext) -> list[tuple[str, Callable[[], Check]]]:
    if not ctx.usage.soap_operations:
        return []
    probe = SoapProbe(ctx)
    plan = [(SERVICE, partial(service, ctx, probe))]
    for source, node in ctx.usage.soap_nodes.items():
        name = f"1C exchange node ({source})"
        plan.append((name, partial(soap_node, ctx, probe, source, node)))
    return plan


def service(ctx: DoctorContext, probe: SoapProbe) -> Check:
    if probe.client is None:
        return Check.failed(
            SERVICE,
            "the web service is used, and erp.soap.wsdl_url, erp.user or erp.password is unset",
            "set erp.soap.wsdl_url (…/<base>/ws/SyncdExchange.1cws?wsdl), erp.user and "
            "erp.password (SYNCD_ERP_USER, SYNCD_ERP_PASSWORD)",
        )
    try:
        offered = probe.operations.get()
    except Exception as exc:  # noqa: BLE001 - every failure is this row's answer
        return Check.failed(SERVICE, _failure(exc, ctx), _fix(exc))
    mapped = ctx.settings.erp.soap.operations
    missing = [
        f"{mapped.get(op, op)} ({op}, for {who})"
        for op, who in ctx.usage.soap_operations.items()
        if mapped.get(op) not in offered
    ]
    if missing:
        return Check.failed(
            SERVICE,
            f"{probe.url} lacks {', '.join(missing)}; it offers {', '.join(offered) or 'none'}",
            f"publish the SyncdExchange web service ({CONTRIB}), or name the service's own "
            "operations in erp.soap.operations",
        )
    used = sorted({mapped[op] for op in ctx.usage.soap_operations})
    return Check.passed(SERVICE, f"{probe.url.split('?')[0]} offers {', '.join(used)}")


def soap_node(ctx: DoctorContext, probe: SoapProbe, source: str, node: str) -> Check:
    name = f"1C exchange node ({source})"
    if probe.client is None:
        return Check.skipped_because(name, "not checked: the web service is not configured")
    try:
        probe.operations.get()
    except Exception:  # noqa: BLE001
        return Check.skipped_because(name, "not checked: the web service's WSDL was not read")
    try:
        received = int(probe.client.call("received_no", Node=node) or 0)
        meta = probe.metadata.get()
    except ErpSoapFault as exc:
        return Check.failed(
            name,
            f"the web service refused: {exc.message}",
            f"create syncd's node in the exchange plan and put its code in options.node of "
            f"source {source} (docs/onec.md)",
        )
    except Exception as exc:  # noqa: BLE001
        return Check.failed(name, _failure(exc, ctx), _fix(exc))
    sets = _source_sets(ctx, source)
    absent = [s for s in sets if not meta.has_entity(s)]
    if absent:
        return Check.failed(
            name,
            f"Describe lists no {', '.join(absent)}",
            "add them to ОбслуживаемыеНаборы in the web service's module, or correct "
            f"options.sets of source {source}",
        )
    return Check.passed(name, f"node {node!r}: last message received {received}")


def _source_sets(ctx: DoctorContext, source: str) -> list[str]:
    spec = next(s for s in ctx.settings.sources if s.name == source)
    return list((spec.options or {}).get("sets") or {})


def _failure(exc: BaseException, ctx: DoctorContext) -> str:
    if isinstance(exc, ErpAccessDenied):
        return f"the web service refused syncd's user: {exc.message}"
    if isinstance(exc, ErpUnsafeXml):
        return f"refused to read it: {exc.message}"
    if isinstance(exc, ErpError):
        return exc.message
    if isinstance(exc, requests.RequestException):
        return describe_network_error(exc, ctx.limits.timeout)
    return str(exc)


def _fix(exc: BaseException) -> str:
    if isinstance(exc, ErpAccessDenied):
        return "check erp.user and erp.password, and that the user has the web service's role"
    return (
        "check erp.soap.wsdl_url (…/<base>/ws/SyncdExchange.1cws?wsdl), that the web service "
        "is published on the web server, and that this host can reach it"
    )
