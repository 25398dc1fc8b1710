"""Checks of syncd's own setup: the configuration builds, the mappings read, the webhook secret.

``configuration`` builds every source, flow and sink exactly as ``syncd run``
does (options, folders, mapping files) without connecting anywhere.
``mapping files`` reads the admin's mappings when a flow uses them.
``order robot`` fails when an ``order_robot`` flow reads an entity no CRM
history source gives (``own_created_as``): the robot would never hear of the
orders syncd itself creates.
``webhook secret`` fails when a source takes webhooks but no secret is set:
the HTTP server then answers every push with 401, and changes arrive only by
polling.
"""

from __future__ import annotations

from syncd.config import ConfigError
from syncd.config_errors import ConfigProblem
from syncd.doctor.context import DoctorContext
from syncd.doctor.result import Check

SHOWN_PROBLEMS = 5


def problem_lines(problems: list[ConfigProblem] | list[str], more_hint: str) -> str:
    """The first few problems, one a line, and how many more there are."""
    lines = [str(p) for p in problems[:SHOWN_PROBLEMS]]
    if len(problems) > SHOWN_PROBLEMS:
        lines.append(f"… and {len(problems) - SHOWN_PROBLEMS} more ({more_hint})")
    return "\n".join(lines)


def configuration(ctx: DoctorContext) -> Check:
    from syncd.engine.contracts import PartContext
    from syncd.engine.pipeline import build_pipeline
    from syncd.metrics import Metrics

    settings = ctx.settings
    recheck = f"`syncd check-config {ctx.config_path}`"
    try:
        pipeline = build_pipeline(settings, PartContext(settings, Metrics()))
    except ConfigError as exc:
        return Check.failed(
            "configuration",
            problem_lines(exc.problems, f"{recheck} lists them all"),
            f"correct the configuration at the lines named; {recheck} re-checks it",
        )
    try:
        parts = (
            f"{len(pipeline.sources)} source(s), {len(pipeline.flows)} flow(s), "
            f"{len(pipeline.sinks)} sink(s)"
        )
    finally:
        pipeline.close()
    return Check.passed("configuration", f"{ctx.config_path}: valid, {parts}")


def mapping_files(ctx: DoctorContext) -> Check:
    from syncd.mappings.load import MappingError

    name = "mapping files"
    folder = ctx.settings.mappings_dir
    if not ctx.usage.mapped_flows:
        return Check.skipped_because(name, "no flow uses the mapping files")
    try:
        ctx.mappings.get()
    except MappingError as exc:
        return Check.failed(
            name,
            problem_lines(exc.problems, "`syncd mappings validate --offline` lists them all"),
            f"correct the files in {folder} at the lines named "
            "(`syncd mappings validate --offline` re-checks them)",
        )
    flows = ", ".join(ctx.usage.mapped_flows)
    return Check.passed(name, f"{folder}: valid (used by {flows})")


def order_robot_wiring(ctx: DoctorContext) -> Check:
    name = "order robot"
    settings = ctx.settings
    robots = [f for f in settings.flows if f.kind == "order_robot"]
    if not robots:
        return Check.skipped_because(name, "no order_robot flow is configured")
    given = {"order"} | {
        str((s.options or {}).get("own_created_as"))
        for s in settings.sources
        if s.kind == "retailcrm_history" and (s.options or {}).get("own_created_as")
    }
    for flow in robots:
        if "order_created" in (flow.entities or []) and "order_created" not in given:
            return Check.failed(
                name,
                f"flow {flow.name} reads order_created, but no retailcrm_history source "
                "gives it: the robot never hears of the orders syncd creates",
                "set options.own_created_as: order_created on the CRM history source "
                "(docs/robot.md)",
            )
    return Check.passed(name, f"{', '.join(f.name for f in robots)}: fed by the CRM history")


def webhook_secret(ctx: DoctorContext) -> Check:
    name = "webhook secret"
    paths = ctx.usage.webhook_paths
    if not paths:
        return Check.skipped_because(name, "no source takes webhooks")
    served = ", ".join(sorted(paths))
    secret = ctx.settings.http.webhook_secret
    if secret is None or not secret.get_secret_value():
        return Check.failed(
            name,
            f"{served} would answer every call with 401: no secret is set",
            "set SYNCD_WEBHOOK_SECRET (or http.webhook_secret) to a long random string and give "
            "the same token to the 1C subscription and the RetailCRM trigger",
        )
    return Check.passed(name, f"set; {served} on {ctx.settings.http.listen}")
