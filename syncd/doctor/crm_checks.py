"""Checks of RetailCRM: the account answers, the key is valid, may do what the flows need.

``GET /api/credentials`` (unversioned) answers the key's ``scopes``,
``siteAccess`` (``access_full`` or ``access_selective``) and
``sitesAvailable``; the scopes needed are derived from the configured parts
(``scopes``).  The order statuses are checked by the mapping check
``syncd mappings validate`` uses (``check_against_crm``).  The account's time
zone is read off an empty history page: its ``generatedAt`` is the account's
local time, the answer's ``Date`` the same moment in UTC, so the two differ
by the account's UTC offset, which ``crm.timezone`` must match.  An account that
lists no scopes (older API) leaves that check skipped, not failed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from syncd.connectors.retailcrm.errors import CrmAccessDenied, CrmAccountMissing, CrmError
from syncd.doctor.config_checks import problem_lines
from syncd.doctor.context import DoctorContext
from syncd.doctor.probes import describe_network_error
from syncd.doctor.result import Check
from syncd.doctor.scopes import required_scopes

REACHABLE, KEY, SCOPES, SITES, STATUSES, ZONE = (
    "CRM reachable",
    "CRM API key",
    "CRM scopes",
    "CRM site access",
    "CRM statuses",
    "CRM time zone",
)
# Zones differ by 15 minutes at the least; a clock off by more shows in "CRM clock".
ZONE_TOLERANCE_SECONDS = 600.0
KEYS_PAGE = "Администрирование → Интеграция → Ключи доступа к API"
UNSET_FIX = "set crm.url (SYNCD_CRM_URL) and the key in SYNCD_CRM_API_KEY"


def crm_reachable(ctx: DoctorContext) -> Check:
    if not ctx.crm.configured:
        return Check.failed(REACHABLE, "the RetailCRM account is not configured", UNSET_FIX)
    error = ctx.crm.credentials.error()
    url = ctx.crm.url
    if error is None or isinstance(error, CrmAccessDenied):
        return Check.passed(REACHABLE, f"{url} answers")
    if isinstance(error, requests.RequestException):
        detail = describe_network_error(error, ctx.limits.timeout)
    elif isinstance(error, CrmAccountMissing):
        detail = "no RetailCRM account at this address"
    else:
        detail = str(error)
    return Check.failed(
        REACHABLE,
        f"{url}: {detail}",
        "check crm.url (https://<account>.retailcrm.ru, no /api path) and that this host "
        "reaches it",
    )


def crm_api_key(ctx: DoctorContext) -> Check:
    error = ctx.crm.credentials.error()
    if not ctx.crm.configured or (error is not None and not isinstance(error, CrmAccessDenied)):
        return Check.skipped_because(KEY, "not checked: the CRM did not answer")
    if error is not None:
        return Check.failed(
            KEY,
            f"refused: {error}",
            f"put an active key of this account in SYNCD_CRM_API_KEY ({KEYS_PAGE})",
        )
    return Check.passed(KEY, "accepted")


def _credentials(ctx: DoctorContext, name: str) -> dict | Check:
    try:
        return ctx.crm.credentials.get()
    except Exception:  # noqa: BLE001 - the checks above say why
        return Check.skipped_because(name, "not checked: the key's credentials were not read")


def crm_scopes(ctx: DoctorContext) -> Check:
    body = _credentials(ctx, SCOPES)
    if isinstance(body, Check):
        return body
    needed = required_scopes(ctx.settings)
    if not needed:
        return Check.skipped_because(SCOPES, "no part of the configuration writes or reads the CRM")
    granted = body.get("scopes")
    if not isinstance(granted, list):
        return Check.skipped_because(SCOPES, "not checked: the account lists no scopes")
    missing = {scope: why for scope, why in needed.items() if scope not in granted}
    if missing:
        lines = [f"{scope} (for {', '.join(why)})" for scope, why in missing.items()]
        return Check.failed(
            SCOPES,
            "the key lacks " + "; ".join(lines),
            f"allow {', '.join(missing)} for this key ({KEYS_PAGE})",
        )
    return Check.passed(SCOPES, "the key has " + ", ".join(sorted(needed)))


def crm_site_access(ctx: DoctorContext) -> Check:
    body = _credentials(ctx, SITES)
    if isinstance(body, Check):
        return body
    access = body.get("siteAccess")
    available = body.get("sitesAvailable")
    site = ctx.settings.crm.site
    if access is None:
        return Check.skipped_because(SITES, "not checked: the account does not say")
    sites = [str(s) for s in available] if isinstance(available, list) else None
    if site and sites is not None and site not in sites:
        return Check.failed(
            SITES,
            f"{access}: the key reaches {', '.join(sites) or 'no site'}, not crm.site {site!r}",
            f"give the key access to site {site!r} ({KEYS_PAGE}), or correct crm.site "
            "(SYNCD_CRM_SITE)",
        )
    if not site and access == "access_selective" and sites is not None and len(sites) != 1:
        return Check.failed(
            SITES,
            f"the key reaches {len(sites)} sites ({', '.join(sites)}) and crm.site is not set",
            "set crm.site (SYNCD_CRM_SITE) to the site syncd writes to",
        )
    where = f"site {site!r}" if site else f"sites {', '.join(sites or [])}".rstrip()
    return Check.passed(SITES, f"{access}: {where}")


def crm_statuses(ctx: DoctorContext) -> Check:
    from syncd.mappings.check import check_against_crm

    if not ctx.usage.mapped_flows:
        return Check.skipped_because(STATUSES, "no flow uses the mapping files")
    try:
        mappings = ctx.mappings.get()
    except Exception:  # noqa: BLE001 - `mapping files` says why
        return Check.skipped_because(STATUSES, "not checked: the mapping files do not read")
    if ctx.crm.credentials.error() is not None:
        return Check.skipped_because(STATUSES, "not checked: the key's credentials were not read")
    try:
        statuses = ctx.crm.statuses.get()
    except CrmAccessDenied as exc:
        return Check.failed(
            STATUSES,
            f"the key may not read the order statuses: {exc}",
            f"allow reference_read for this key ({KEYS_PAGE})",
        )
    except requests.RequestException as exc:
        detail = describe_network_error(exc, ctx.limits.timeout)
        return Check.failed(STATUSES, f"reading the statuses: {detail}", "run the check again")
    except CrmError as exc:
        return Check.failed(STATUSES, f"reading the statuses: {exc}", "run the check again")
    problems = [str(p) for p in check_against_crm(mappings, statuses)]
    if problems:
        return Check.failed(
            STATUSES,
            problem_lines(problems, f"{ctx.command('mappings', 'validate')} lists them all"),
            "map every CRM status under crm: in statuses.yaml and use only the account's "
            "status codes (Администрирование → Статусы заказов)",
        )
    return Check.passed(
        STATUSES, f"every status the mappings name exists ({len(statuses)} in the CRM)"
    )


def crm_timezone(ctx: DoctorContext) -> Check:
    if ctx.crm.credentials.error() is not None:
        return Check.skipped_because(ZONE, "not checked: the key's credentials were not read")
    history = [s for s in ctx.settings.sources if s.kind == "retailcrm_history" and s.enabled]
    entity = "order"
    if history and all(s.options.get("entity") == "customer" for s in history):
        entity = "customer"
    try:
        read = ctx.crm.account_time(entity)
    except CrmAccessDenied:
        return Check.skipped_because(ZONE, f"not checked: the key may not read {entity} history")
    except requests.RequestException as exc:
        detail = describe_network_error(exc, ctx.limits.timeout)
        return Check.failed(ZONE, f"reading the history: {detail}", "run the check again")
    except CrmError as exc:
        return Check.failed(ZONE, f"reading the history: {exc}", "run the check again")
    try:
        local = datetime.strptime(read.generated_at, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return Check.skipped_because(ZONE, "not checked: the history answer has no generatedAt")
    if read.date is None:
        return Check.skipped_because(ZONE, "not checked: the answer had no Date header")
    name = ctx.settings.crm.timezone
    at = datetime.fromtimestamp(read.date, UTC)
    account_offset = (local - at.replace(tzinfo=None)).total_seconds()
    expected = ZoneInfo(name).utcoffset(at.replace(tzinfo=None)) or timedelta(0)
    off_by = account_offset - expected.total_seconds()
    if abs(off_by) > ZONE_TOLERANCE_SECONDS:
        return Check.failed(
            ZONE,
            f"the account writes its dates in UTC{_offset(account_offset)} (it said "
            f"{read.generated_at} at {at:%H:%M:%S} UTC), crm.timezone {name} is "
            f"UTC{_offset(expected.total_seconds())}: change times would read "
            f"{abs(off_by) / 3600:.1f} h off",
            "set crm.timezone to the zone the RetailCRM account is set to "
            "(its settings name it), then reload syncd",
        )
    return Check.passed(
        ZONE, f"the account's dates are in {name} (UTC{_offset(expected.total_seconds())})"
    )


def _offset(seconds: float) -> str:
    """``+03:00`` for a UTC offset, rounded to the quarter hour zones use."""
    quarters = round(seconds / 900)
    sign = "-" if quarters < 0 else "+"
    minutes = abs(quarters) * 15
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
