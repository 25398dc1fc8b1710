"""The systemd unit and its environment file, checked the way systemd itself reads them.

``systemd-analyze verify`` exits 0 even when a directive is misspelt or a
value cannot be parsed: it only prints "Unknown key ..., ignoring" and goes
on.  So the check here fails on any warning naming the unit, and proves it
would by feeding a misspelt copy too.  ``systemd-analyze security`` scores the
sandbox; the unit must stay at an overall exposure of 1.5 or less.  Under
``make test`` and ``.ci/run`` (and wherever CI is set) a missing
systemd-analyze is a failure (scripts/ensure-ops-tools installs it); elsewhere
those tests are skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from syncd.config import EngineSettings, load_settings
from tests.support.documented import env_vars as documented_env_vars
from tests.support.ops import require_tool
from tests.support.paths import ROOT

UNIT = ROOT / "systemd" / "syncd.service"
ENV_EXAMPLE = ROOT / "systemd" / "syncd.env.example"
INSTALLED_EXECUTABLE = "/opt/syncd/.venv/bin/syncd"
MAX_EXPOSURE = 1.5


def systemd_analyze() -> str:
    return require_tool("systemd-analyze")


def unit_settings(text: str) -> dict[str, dict[str, list[str]]]:
    """Section -> directive -> every value given, in order (comments dropped)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def seconds(value: str) -> float:
    """A systemd time span as written in this unit: "60", "90s", "2min", "1min 30s"."""
    units = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value):
        total += float(number) * units[unit]
    return total


def unit_copy(tmp_path: Path, text: str | None = None) -> Path:
    """The unit with ExecStart pointing at an executable that exists on this machine.

    verify refuses a unit whose ExecStart cannot be executed, and
    /opt/syncd/.venv/bin/syncd only exists where syncd was installed.  This
    checkout's own ``syncd`` console script stands in for it.
    """
    text = UNIT.read_text(encoding="utf-8") if text is None else text
    assert text.count(INSTALLED_EXECUTABLE) == 1, "ExecStart names the installed syncd once"
    stand_in = Path(sys.executable).with_name("syncd")
    if not os.access(stand_in, os.X_OK):
        stand_in = Path(sys.executable)
    path = tmp_path / "syncd.service"
    path.write_text(text.replace(INSTALLED_EXECUTABLE, str(stand_in)), encoding="utf-8")
    return path


def verify(unit: Path) -> tuple[int, list[str]]:
    """(exit code, every line systemd-analyze verify printed about ``unit``)."""
    proc = subprocess.run(
        [systemd_analyze(), "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Lines about other units (the host's own) are not this test's business.
    said = [
        line
        for line in (proc.stdout + proc.stderr).splitlines()
        if unit.name in line or unit.stem in line
    ]
    return proc.returncode, said


def security(unit: Path) -> tuple[int, float, str]:
    """(exit code, overall exposure, whole report) of the offline security analysis."""
    proc = subprocess.run(
        [systemd_analyze(), "security", "--offline=yes", "--threshold=15", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    report = proc.stdout + proc.stderr
    match = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", report)
    assert match, f"no overall exposure level in:\n{report}"
    return proc.returncode, float(match.group(1)), report


def test_unit_verifies_without_a_single_warning(tmp_path: Path) -> None:
    code, said = verify(unit_copy(tmp_path))
    assert (code, said) == (0, [])


@pytest.mark.parametrize(
    ("replace", "by"),
    [
        ("PrivateTmp=yes", "PrivatTmp=yes"),  # unknown key: verify still exits 0
        ("ProtectHome=yes", "ProtectHome=perhaps"),  # unparsable value: exits 0 too
        ("RestartSec=5", "RestartSec=five"),
        ("[Service]", "[Servce]"),  # unknown section: the unit loses its ExecStart
    ],
)
def test_verify_check_catches_a_misspelt_unit(tmp_path: Path, replace: str, by: str) -> None:
    text = UNIT.read_text(encoding="utf-8")
    lines = text.splitlines()
    line_number = lines.index(replace) + 1
    unit = unit_copy(tmp_path, text.replace(replace, by, 1))
    _code, said = verify(unit)  # verify exits 0 for most of these: the lines tell
    assert any(line.startswith(f"{unit}:{line_number}:") for line in said), said


def test_security_exposure_is_at_most_1_5(tmp_path: Path) -> None:
    code, exposure, report = security(unit_copy(tmp_path))
    assert code == 0, report
    assert exposure <= MAX_EXPOSURE, report


def test_security_threshold_fails_a_weakened_unit(tmp_path: Path) -> None:
    text = UNIT.read_text(encoding="utf-8")
    for strong, weak in (
        ("PrivateUsers=yes", "PrivateUsers=no"),
        ("ProtectHome=yes", "ProtectHome=no"),
        ("PrivateDevices=yes", "PrivateDevices=no"),
        ("SystemCallFilter=@system-service", "#"),
    ):
        assert strong in text
        text = text.replace(strong, weak, 1)
    code, exposure, report = security(unit_copy(tmp_path, text))
    assert exposure > MAX_EXPOSURE, report
    assert code != 0, report


def test_unit_is_a_notify_service_with_watchdog_reload_and_hardening() -> None:
    service = unit_settings(UNIT.read_text(encoding="utf-8"))["Service"]
    one = {key: values[-1] for key, values in service.items()}
    assert one["Type"] == "notify"
    assert one["NotifyAccess"] == "main"
    assert one["ExecStart"] == f"{INSTALLED_EXECUTABLE} run"
    assert one["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert one["Restart"] == "on-failure"
    assert one["EnvironmentFile"] == "-/etc/syncd/syncd.env"
    assert one["StateDirectory"] == "syncd"
    assert one["UMask"] == "0077"
    assert one["CapabilityBoundingSet"] == ""
    assert set(one["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    assert service["SystemCallFilter"] == ["@system-service", "~@privileged @resources"]


def test_timeouts_leave_room_for_the_configured_shutdown() -> None:
    service = unit_settings(UNIT.read_text(encoding="utf-8"))["Service"]
    engine = EngineSettings()
    # SIGTERM: sources and sinks get shutdown_timeout_seconds, then claims and leases
    # are given back and threads get 2 s to leave; systemd must not SIGKILL before.
    assert seconds(service["TimeoutStopSec"][-1]) >= engine.shutdown_timeout_seconds + 15
    # The loop pings at every iteration (at most every quarter interval), idle ones
    # last tick_seconds; /readyz gives up on a loop older than ready_max_cycle_age.
    watchdog = seconds(service["WatchdogSec"][-1])
    assert watchdog >= 10 * engine.tick_seconds
    assert watchdog >= engine.ready_max_cycle_age_seconds
    assert 0 < seconds(service["TimeoutStartSec"][-1]) <= 600


def env_example_lines() -> dict[str, str]:
    """NAME -> value of every assignment in the example, commented out or not."""
    found = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"#?([A-Za-z_][A-Za-z0-9_]*)=(.*)", line.strip())
        if match:
            found[match.group(1)] = match.group(2)
    return found


def test_env_example_names_every_variable_syncd_reads_and_no_other() -> None:
    """The example names docs/configuration.md's variables, no more, no fewer."""
    named = env_example_lines()
    assert set(named) == set(documented_env_vars())


def test_each_variable_of_the_env_example_changes_the_settings(tmp_path: Path) -> None:
    config = tmp_path / "syncd.yaml"
    # http.listen away from its default, which the example's SYNCD_HTTP_ADDR repeats
    config.write_text("http:\n  listen: 127.0.0.1:1\n", encoding="utf-8")
    plain = load_settings(config, env={}).model_dump()
    for name, value in env_example_lines().items():
        value = value or "sample-secret-value"
        if name == "SYNCD_CONFIG":
            settings = load_settings(None, env={name: str(config)})
            assert settings.source_file == config.resolve()
            continue
        settings = load_settings(config, env={name: value})
        section, key = documented_env_vars()[name]  # the setting the docs say it sets
        got = getattr(getattr(settings, section), key)
        got = got.get_secret_value() if hasattr(got, "get_secret_value") else got
        assert got == value, name
        assert settings.model_dump() != plain, f"{name} changed nothing"
