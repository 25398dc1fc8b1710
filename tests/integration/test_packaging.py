"""What ships: syncd's production wheel carries no emulator, demo or test connector; they
come with syncd-sandbox (``pip install 'syncd[sandbox]'``, or ``make`` from a checkout),
and the commands that need them say how to get them."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from tests.support.paths import ROOT

WITHOUT_SANDBOX = "import sys; sys.modules['syncd_sandbox'] = None; from cli import main; main()"


@pytest.mark.slow
def test_the_production_wheel_holds_no_sandbox_demo_or_test_connector(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("syncd-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "syncd/engine/daemon.py" in names and "cli.py" in names  # the wheel is whole
    emulators = ("syncd_sandbox/", "syncd/sandbox/", "syncd/demo/", "syncd/connectors/demo/")
    outside = [n for n in names if n.startswith(emulators)]
    assert outside == []
    extras = (
        zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        .decode()
    )
    assert 'Requires-Dist: syncd-sandbox==0.1.0; extra == "sandbox"' in extras


@pytest.mark.parametrize("command", [["sandbox", "crm"], ["sandbox", "erp"], ["demo"]])
def test_without_the_sandboxes_their_commands_say_how_to_get_them(command):
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_SANDBOX, *command],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "pip install 'syncd[sandbox]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_test_connectors_come_from_the_sandbox_s_entry_point():
    """feed_file and directory are registered by syncd-sandbox (installed here), not by
    syncd itself: production, without it, has no such kinds."""
    from syncd.engine.contracts import Sink, Source
    from syncd.engine.pipeline import PART_MODULES, kinds

    assert not any("sandbox" in m or "demo" in m for m in PART_MODULES)
    assert "feed_file" in kinds(Source) and "directory" in kinds(Sink)
    assert kinds(Source)["feed_file"].__module__.startswith("syncd_sandbox.")
