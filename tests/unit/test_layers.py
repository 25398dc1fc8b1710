"""The layers import downwards only: the store knows no engine, flow or connector; the
flows, the identity resolution and the mapping files know no connector (they are pure,
or take what they read from a connector as an argument) except a sink's published
actions (``connectors/<system>/actions.py``: pure models, the flows build them); nothing
of syncd's own imports the sandboxes or the demo except the commands that run them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support.paths import ROOT

PACKAGE = ROOT / "syncd"

# package -> the syncd packages it must not import
NEVER = {
    "store": ("syncd.engine", "syncd.flows", "syncd.connectors", "syncd.identity"),
    "flows": ("syncd.connectors", "syncd_sandbox", "syncd_sandbox.demo"),
    "identity": ("syncd.engine", "syncd.flows", "syncd.connectors"),
    "mappings": ("syncd.engine", "syncd.flows", "syncd.connectors"),
    "engine": ("syncd.flows", "syncd_sandbox", "syncd_sandbox.demo"),
    "connectors": ("syncd_sandbox", "syncd_sandbox.demo"),
}


# a sink's actions: the contract flows build commands with (pure pydantic models)
ACTIONS = re.compile(r"syncd\.connectors\.\w+\.actions\Z")


def imports_of(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, at any depth (a deferred import counts too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


@pytest.mark.parametrize("package", sorted(NEVER))
def test_a_layer_imports_nothing_above_it(package):
    wrong = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {module}"
        for path in sorted((PACKAGE / package).rglob("*.py"))
        for line, module in imports_of(path)
        if module.startswith(NEVER[package]) and not ACTIONS.match(module)
    ]
    assert wrong == []


def test_a_sink_s_actions_are_pure_models():
    """What flows may import of a connector imports nothing but the engine's actions and
    pydantic: no client, no I/O."""
    modules = sorted((PACKAGE / "connectors").glob("*/actions.py"))
    assert {p.parent.name for p in modules} >= {"onec", "retailcrm"}
    for path in modules:
        imported = {m for _, m in imports_of(path)}
        assert imported <= {"__future__", "typing", "pydantic", "syncd.engine.actions"}, path


@pytest.mark.parametrize("package", ["engine", "store", "identity", "mappings"])
def test_each_package_s_front_door_opens_onto_what_it_names(package):
    """``from syncd.<package> import X`` for every X of its ``__all__``: the object the
    module that defines it holds, not a copy."""
    import importlib

    door = importlib.import_module(f"syncd.{package}")
    assert door.__all__
    for name in door.__all__:
        found = getattr(door, name)
        home = importlib.import_module(found.__module__)
        assert getattr(home, name) is found, name
