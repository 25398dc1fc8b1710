"""``syncd check``: the doctor's table of ✓/✗, with how to fix each ✗.

Exit 0 when every check passed (or did not apply), 1 when any failed.
"""

from __future__ import annotations

import os
import sys

import click

from syncd.commands.common import config_option
from syncd.doctor.result import Check

MARKS = {"ok": "✓", "fail": "✗", "skip": "–"}
PLAIN_MARKS = {"ok": "ok", "fail": "FAIL", "skip": "-"}


@click.command("check")
@config_option
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=15.0,
    show_default=True,
    help="Seconds each check may take.",
)
@click.option(
    "--max-clock-skew",
    type=click.FloatRange(min=1.0),
    default=30.0,
    show_default=True,
    help="Seconds a system's clock may differ from this host's.",
)
def check_command(config_path: str | None, timeout: float, max_clock_skew: float) -> None:
    """Check that syncd can run: store, 1C, RetailCRM, webhooks, clocks.

    Prints one row per check (✓ passed, ✗ failed, – skipped: not used, or not
    checkable after a failure above) and how to fix each ✗; exit 0 when
    nothing failed, 1 otherwise.
    """
    from syncd.config import ConfigError, config_path_from, load_settings
    from syncd.doctor import DoctorContext, Limits, run_checks
    from syncd.logs import register_secret

    try:
        path = config_path_from(config_path, os.environ)
        settings = load_settings(path)
    except ConfigError as exc:
        checks = [
            Check.failed(
                "configuration",
                str(exc),
                "correct the file at the lines named (`syncd check-config PATH` re-checks it)",
            )
        ]
    else:
        for secret in settings.secret_values():
            register_secret(secret)
        context = DoctorContext(settings, Limits(timeout, max_clock_skew), path)
        click.echo(f"syncd check: {settings.source_file}")
        checks = run_checks(context)
    click.echo(render(checks, marks()))
    failed = sum(not c.ok for c in checks)
    passed = sum(c.ok and not c.skipped for c in checks)
    skipped = sum(c.skipped for c in checks)
    click.echo(f"{len(checks)} checks: {passed} passed, {failed} failed, {skipped} skipped")
    sys.exit(1 if failed else 0)


def marks() -> dict[str, str]:
    """✓/✗ where the terminal can show them, plain words where it cannot."""
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "".join(MARKS.values()).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return PLAIN_MARKS
    return MARKS


def render(checks: list[Check], symbols: dict[str, str]) -> str:
    """One row per check; a ✗ row's further detail lines and its fix line below it."""
    width = max(len(c.name) for c in checks)
    mark_width = max(len(m) for m in symbols.values())
    indent = " " * (2 + mark_width + 2 + width + 2)
    lines = []
    for check in checks:
        state = "skip" if check.skipped else "ok" if check.ok else "fail"
        first, *rest = check.detail.splitlines() or [""]
        lines.append(f"  {symbols[state]:<{mark_width}}  {check.name:<{width}}  {first}")
        lines += [indent + line for line in rest]
        if not check.ok and check.fix:
            lines.append(f"{indent}fix: {check.fix}")
    return "\n".join(lines)
