"""What the user documentation promises, read from the docs themselves, so that a test
compares the code against the docs instead of against the code's own tables."""

from __future__ import annotations

import re

from tests.support.paths import ROOT

CONFIGURATION = ROOT / "docs" / "configuration.md"
ENV_ROW = re.compile(r"\|\s*`(SYNCD_[A-Z0-9_]+)`\s*\|\s*(?:`([a-z_]+)\.([a-z_]+)`)?")


def env_vars() -> dict[str, tuple[str, str] | None]:
    """docs/configuration.md's table of environment variables: NAME -> (section, key)
    of the setting it overrides, None for one that names no setting (SYNCD_CONFIG)."""
    found: dict[str, tuple[str, str] | None] = {}
    for line in CONFIGURATION.read_text(encoding="utf-8").splitlines():
        match = ENV_ROW.match(line.strip())
        if match:
            name, section, key = match.groups()
            found[name] = (section, key) if section else None
    return found
