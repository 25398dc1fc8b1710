"""Checks of 1C: the publication answers, syncd's user logs in, what syncd uses is published.

One read of ``$metadata`` serves the first three.  What is published is
checked by the mapping check ``syncd mappings validate`` uses
(``check_against_erp``: every set, field and tabular section the mapping
files name) plus the sets the 1C sources read; the 1C values the status map
names are checked against what 1C has sent (``check_erp_values``), and the
row says when they could not be checked.  Each ``erp_exchange``
source's node is read the way the source reads it (``ExchangePlan(guid'…')``).
"""

from __future__ import annotations

from typing import Any

import requests

from syncd.connectors.onec.errors import ErpAccessDenied, ErpError, ErpNotFound
from syncd.doctor.config_checks import problem_lines
from syncd.doctor.context import DoctorContext
from syncd.doctor.probes import describe_network_error
from syncd.doctor.result import Check
from syncd.doctor.usage import ExchangeNodeUse

REACHABLE, CREDENTIALS, OBJECTS = "1C reachable", "1C credentials", "1C objects and fields"
UNSET_FIX = (
    "set erp.odata_url, erp.user and erp.password (SYNCD_ERP_ODATA_URL, SYNCD_ERP_USER, "
    "SYNCD_ERP_PASSWORD)"
)
URL_FIX = (
    "check erp.odata_url (…/<base>/odata/standard.odata/), that the base is published on "
    "the web server with OData on, and that this host can reach it"
)


def _refused_login(exc: BaseException) -> bool:
    """401/403, or an HTML page where OData was expected (how a refused login often looks)."""
    return isinstance(exc, ErpAccessDenied) or (
        isinstance(exc, ErpError) and exc.status == 200 and "HTML" in exc.message
    )


def _refusal(exc: BaseException) -> str:
    if isinstance(exc, ErpError) and exc.status == 401:
        return "wrong user or password (401)"
    if isinstance(exc, ErpError) and exc.status != 200:
        return f"no rights ({exc})"
    return str(exc)


def erp_reachable(ctx: DoctorContext) -> Check:
    if not ctx.erp.configured:
        return Check.failed(REACHABLE, "1C's publication is not configured", UNSET_FIX)
    error = ctx.erp.metadata.error()
    url = ctx.erp.url
    if error is None or _refused_login(error):
        return Check.passed(REACHABLE, f"{url} answers")
    if isinstance(error, requests.RequestException):
        detail = describe_network_error(error, ctx.limits.timeout)
    elif isinstance(error, ErpNotFound):
        detail = "no OData publication at this address (404)"
    else:
        detail = str(error)
    return Check.failed(REACHABLE, f"{url}: {detail}", URL_FIX)


def erp_credentials(ctx: DoctorContext) -> Check:
    error = ctx.erp.metadata.error()
    if not ctx.erp.configured or (error is not None and not _refused_login(error)):
        return Check.skipped_because(CREDENTIALS, "not checked: 1C did not answer")
    if error is not None:
        return Check.failed(
            CREDENTIALS,
            f"user {ctx.erp.user!r} refused: {_refusal(error)}",
            "check erp.user and SYNCD_ERP_PASSWORD against the 1C user, and that the user "
            "has the rights of the publication (see docs/integrator.md)",
        )
    meta = ctx.erp.metadata.get()
    return Check.passed(
        CREDENTIALS,
        f"user {ctx.erp.user!r} reads $metadata ({len(meta.entity_sets)} sets published)",
    )


def erp_objects(ctx: DoctorContext, store: Any = None) -> Check:
    from syncd.mappings.check import check_against_erp, check_erp_values

    try:
        meta = ctx.erp.metadata.get()
    except Exception:  # noqa: BLE001 - the checks above say why
        return Check.skipped_because(OBJECTS, "not checked: 1C's $metadata was not read")
    problems: list[str] = [
        f"source {source}: 1C publishes no {set_name!r}"
        for set_name, source in ctx.usage.erp_sets.items()
        if not meta.has_entity(set_name)
    ]
    checked = [f"{len(ctx.usage.erp_sets)} set(s) the sources read"]
    notes: list[str] = []
    if ctx.usage.mapped_flows:
        try:
            mappings = ctx.mappings.get()
        except Exception:  # noqa: BLE001 - `mapping files` says why
            checked.append("not the mappings (they do not read)")
        else:
            problems += [str(p) for p in check_against_erp(mappings, meta)]
            more, notes = check_erp_values(mappings, meta, _observed(ctx, store))
            problems += [str(p) for p in more]
            checked.append("the mapping files")
    if problems:
        return Check.failed(
            OBJECTS,
            problem_lines(problems, f"{ctx.command('mappings', 'validate')} lists them all"),
            "add the objects to the OData publication's composition (Публикация на веб-сервере "
            "→ состав OData), or correct the names in the mapping files / source options",
        )
    said = "".join(f"\n{note}" for note in notes)
    return Check.passed(OBJECTS, "published: " + " and ".join(checked) + said)


def _observed(ctx: DoctorContext, store: Any) -> Any:
    """What 1C has sent, from the store's inbox; None when the store cannot be read."""
    from syncd.mappings.observed import read_observed

    try:
        opened = store.store.get() if store is not None else None
        return read_observed(opened, ctx.usage.erp_systems) if opened is not None else None
    except Exception:  # noqa: BLE001 - `store reachable` says why
        return None


def erp_node(ctx: DoctorContext, use: ExchangeNodeUse) -> Check:
    name = f"1C exchange node ({use.source})"
    try:
        meta = ctx.erp.metadata.get()
    except Exception:  # noqa: BLE001
        return Check.skipped_because(name, "not checked: 1C's $metadata was not read")
    if not meta.has_entity(use.plan):
        return Check.failed(
            name,
            f"1C publishes no exchange plan {use.plan!r}",
            "add the exchange plan to the OData publication's composition, or correct "
            f"options.plan of source {use.source}",
        )
    try:
        received = ctx.erp.node_received_no(use.plan, use.node)
    except ErpNotFound:
        return Check.failed(
            name,
            f"{use.plan} has no node {use.node}",
            f"create syncd's node in the exchange plan and put its Ref_Key in options.node of "
            f"source {use.source} (docs/onec.md)",
        )
    except ValueError:
        return Check.failed(
            name,
            f"options.node {use.node!r} is not a Ref_Key (a GUID)",
            f"put the node's Ref_Key in options.node of source {use.source}",
        )
    except (ErpError, requests.RequestException) as exc:
        detail = (
            describe_network_error(exc, ctx.limits.timeout)
            if isinstance(exc, requests.RequestException)
            else str(exc)
        )
        return Check.failed(name, f"reading the node: {detail}", URL_FIX)
    return Check.passed(name, f"{use.plan} node {use.node}: last confirmed message {received}")
