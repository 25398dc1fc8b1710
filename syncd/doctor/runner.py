"""Running the checks: which apply to this configuration, all at once, each within its time.

Every check runs in its own thread and gets ``Limits.timeout`` seconds; one
that has not answered by then is reported failed ("no answer within …") and
left behind (daemon threads: the command exits anyway), and a check that
raises is reported failed with the error — neither stops the others.  The
rows come back in a fixed order, and no secret of the configuration appears
in any of them, whatever a system answered.

    checks = run_checks(DoctorContext(settings, Limits(), path))
    ok = all(c.ok for c in checks)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial

from syncd.doctor import config_checks, crm_checks, erp_checks, soap_checks, store_checks
from syncd.doctor.clock import clock_check
from syncd.doctor.context import DoctorContext
from syncd.doctor.result import Check

Planned = tuple[str, Callable[[], Check]]


def planned_checks(ctx: DoctorContext, store: store_checks.StoreProbe) -> list[Planned]:
    """(name, check) for everything this configuration uses, in the order shown."""
    usage, skew = ctx.usage, ctx.limits.max_clock_skew
    plan: list[Planned] = [
        ("configuration", partial(config_checks.configuration, ctx)),
        (store_checks.REACHABLE, partial(store_checks.store_reachable, ctx, store)),
        (store_checks.MIGRATED, partial(store_checks.store_migrated, ctx, store)),
        ("mapping files", partial(config_checks.mapping_files, ctx)),
    ]
    if usage.erp and not usage.erp_odata:  # 1C through its web service alone
        plan += soap_checks.planned(ctx)
    elif usage.erp:
        plan += [
            (erp_checks.REACHABLE, partial(erp_checks.erp_reachable, ctx)),
            (erp_checks.CREDENTIALS, partial(erp_checks.erp_credentials, ctx)),
            (erp_checks.OBJECTS, partial(erp_checks.erp_objects, ctx, store)),
            *(
                (f"1C exchange node ({use.source})", partial(erp_checks.erp_node, ctx, use))
                for use in usage.exchange_nodes
            ),
            ("1C clock", partial(_clock, ctx.erp.metadata.error, "1C clock", ctx.erp, skew, "1C")),
            *soap_checks.planned(ctx),
        ]
    else:
        plan.append(("1C", lambda: Check.skipped_because("1C", "no 1C part is configured")))
    if usage.crm:
        plan += [
            (crm_checks.REACHABLE, partial(crm_checks.crm_reachable, ctx)),
            (crm_checks.KEY, partial(crm_checks.crm_api_key, ctx)),
            (crm_checks.SCOPES, partial(crm_checks.crm_scopes, ctx)),
            (crm_checks.SITES, partial(crm_checks.crm_site_access, ctx)),
            (crm_checks.STATUSES, partial(crm_checks.crm_statuses, ctx)),
            (crm_checks.ZONE, partial(crm_checks.crm_timezone, ctx)),
            (
                "CRM clock",
                partial(_clock, ctx.crm.credentials.error, "CRM clock", ctx.crm, skew, "the CRM"),
            ),
        ]
    else:
        plan.append(
            ("CRM", lambda: Check.skipped_because("CRM", "no RetailCRM part is configured"))
        )
    if any(f.kind == "order_robot" for f in ctx.settings.flows):
        plan.append(("order robot", partial(config_checks.order_robot_wiring, ctx)))
    plan.append(("webhook secret", partial(config_checks.webhook_secret, ctx)))
    return plan


def _clock(ask: Callable, name: str, probe, max_skew: float, system: str) -> Check:  # noqa: ANN001
    ask()  # make sure the system was asked once; any answer, even a refusal, has a Date
    return clock_check(name, probe.clocks, max_skew, system)


def run_checks(ctx: DoctorContext) -> list[Check]:
    store = store_checks.StoreProbe(ctx)
    try:
        checks = run_all(planned_checks(ctx, store), ctx.limits.timeout)
    finally:
        store.close()
    return [_masked(c, ctx.settings.secret_values()) for c in checks]


def run_all(plan: list[Planned], timeout: float) -> list[Check]:
    """Run every check at once; a check still busy after ``timeout`` s is reported failed."""
    results: list[Check | None] = [None] * len(plan)

    def run(i: int, name: str, check: Callable[[], Check]) -> None:
        try:
            results[i] = check().renamed(name)
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
            results[i] = Check.failed(
                name, f"the check itself failed: {type(exc).__name__}: {exc}", "run it again"
            )

    threads = [
        threading.Thread(target=run, args=(i, name, check), name=f"check {name}", daemon=True)
        for i, (name, check) in enumerate(plan)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [
        results[i]
        or Check.failed(
            name,
            f"no answer within {timeout:g} s",
            "check that the system answers from this host (network, firewall, its load), "
            "or allow more time with --timeout",
        )
        for i, (name, _) in enumerate(plan)
    ]


def _masked(check: Check, secrets: list[str]) -> Check:
    detail, fix = check.detail, check.fix
    for secret in sorted(secrets, key=len, reverse=True):
        detail, fix = detail.replace(secret, "***"), fix.replace(secret, "***")
    return Check(check.name, check.ok, detail, fix, check.skipped)
