"""Mutation testing of the core modules: how many planted bugs do the tests catch?

    make mutation                                   # every core module
    .venv/bin/python scripts/mutation.py syncd/flows/order_rules.py   # some of them
    .venv/bin/python scripts/mutation.py --report   # the figures of the last run again

mutmut (3.x) plants one small change at a time in a module — ``<`` for ``<=``,
``and`` for ``or``, a constant changed, a call's argument dropped — and runs the
tests that cover the changed function; a mutant that no test fails *survived*.
The run happens in a copy of the checkout (``build/mutation/``, kept between
runs: mutmut resumes where it stopped and re-tests only changed functions), so
the working tree is never touched.

Each core module is tested by the fast tests that are about it (``CORE`` below:
no test that starts the daemon as a process, whose code mutmut cannot reach).
Printed per module: mutants, killed (a test failed, or timed out), survived,
not covered by those tests, and the kill ratio against the bound (85%).
Mutants that cannot change behaviour (equivalent) are listed with the reason
in ``tests/mutation_equivalent.txt`` and left out of the ratio.  Exit 1 when a
module is under the bound.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "mutation"
BOUND = 0.85
EQUIVALENT = ROOT / "tests" / "mutation_equivalent.txt"

# core module -> the tests about it (run by mutmut for each of its mutants)
CORE: dict[str, list[str]] = {
    "syncd/store/leases.py": ["tests/integration/test_store_leases.py"],
    "syncd/store/outbox.py": [
        "tests/integration/test_store_inbox_outbox.py",
        "tests/integration/test_store_postgres_claims.py",
        "tests/integration/test_store_retention.py",
    ],
    "syncd/store/inbox.py": [
        "tests/integration/test_store_inbox_outbox.py",
        "tests/integration/test_store_retention.py",
        "tests/integration/test_retention_orders.py",
    ],
    "syncd/flows/order_rules.py": [
        "tests/unit/test_order_rules.py",
        "tests/unit/test_order_facts.py",
    ],
    "syncd/flows/order_state.py": [
        "tests/unit/test_order_state.py",
        "tests/unit/test_order_facts.py",
    ],
    "syncd/engine/actions.py": ["tests/integration/test_actions.py"],
    "syncd/connectors/onec/actions.py": ["tests/integration/test_actions.py"],
    "syncd/connectors/retailcrm/actions.py": ["tests/integration/test_actions.py"],
    "syncd/identity/match.py": [
        "tests/integration/test_identity.py",
        "tests/integration/test_identity_planning.py",
    ],
    "syncd/connectors/onec/values.py": [
        "tests/unit/test_onec_values.py",
        "tests/integration/test_onec_filter_property.py",
    ],
    "syncd/connectors/pos/csv_export.py": [
        "tests/unit/test_pos.py",
        "tests/unit/test_pos_poison.py",
    ],
    "syncd/connectors/retailcrm/history_source.py": [
        "tests/unit/test_retailcrm_history_source.py",
        "tests/integration/test_retailcrm_echo.py",
    ],
    "syncd/logs.py": ["tests/unit/test_logs.py"],
}
# what the tests need besides the package (copied into the run's checkout)
ALSO = ["cli.py", "mappings", "config", "tests", "pyproject.toml", "docs", "deploy", "scripts"]
STATUS = {1: "killed", 3: "killed", -24: "killed", 24: "killed", 36: "killed", 152: "killed",
          255: "killed", 0: "survived", 5: "not covered", 33: "not covered"}  # fmt: skip


def prepare(modules: list[str]) -> None:
    """The run's checkout: syncd/ and what the tests read, with mutmut's config."""
    WORK.mkdir(parents=True, exist_ok=True)
    for name in ["syncd", *ALSO]:
        src, dst = ROOT / name, WORK / name
        if src.is_dir():
            shutil.copytree(
                src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
            )
        elif src.exists():
            shutil.copy2(src, dst)
    others = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "syncd").rglob("*.py")
        if str(p.relative_to(ROOT)) not in modules
    )
    tests = sorted({t for m in modules for t in CORE[m]})
    config = {
        "paths_to_mutate": ["syncd/"],
        "do_not_mutate": others,
        "tests_dir": tests,
    }
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    text += "\n[tool.mutmut]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in config.items())
    (WORK / "pyproject.toml").write_text(text, encoding="utf-8")


def run(max_children: int) -> int:
    env = {**os.environ, "SYNCD_REQUIRE_OPS_TOOLS": "0"}
    mutmut = [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children)]
    return subprocess.call(mutmut, cwd=WORK, env=env)


def equivalent() -> dict[str, str]:
    """mutant name -> why it cannot change behaviour (tests/mutation_equivalent.txt)."""
    found = {}
    if EQUIVALENT.exists():
        for line in EQUIVALENT.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, why = line.partition(" ")
                found[name] = why.strip()
    return found


def report(modules: list[str]) -> bool:
    """Print each module's figures; True when every one is at or over the bound."""
    skip = equivalent()
    ok = True
    print(f"{'module':48} {'mutants':>8} {'killed':>7} {'survived':>9} {'uncovered':>10}  ratio")
    for module in modules:
        meta = WORK / "mutants" / (module + ".meta")
        if not meta.exists():
            print(f"{module:48} not run")
            ok = False
            continue
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        counted = {k: STATUS.get(v, "other") for k, v in codes.items() if k not in skip}
        killed = sum(s == "killed" for s in counted.values())
        survived = [k for k, s in counted.items() if s == "survived"]
        uncovered = sum(s == "not covered" for s in counted.values())
        ratio = killed / len(counted) if counted else 1.0
        mark = "PASS" if ratio >= BOUND else "FAIL"
        ok = ok and ratio >= BOUND
        print(
            f"{module:48} {len(counted):8} {killed:7} {len(survived):9} {uncovered:10}"
            f"  {ratio:6.1%} (bound {BOUND:.0%}) {mark}"
        )
    if skip:
        print(f"\nequivalent mutants left out ({EQUIVALENT.relative_to(ROOT)}):")
        for name, why in sorted(skip.items()):
            print(f"  {name}: {why}")
    print("\nsurvivors: cd build/mutation && ../../.venv/bin/mutmut results; mutmut show NAME")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help="core modules (default: all of them)")
    parser.add_argument("--report", action="store_true", help="only print the last run's figures")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    unknown = [m for m in args.modules if m not in CORE]
    if unknown:
        parser.error(f"not a core module: {', '.join(unknown)} (see CORE in {__file__})")
    modules = args.modules or list(CORE)
    if not args.report:
        prepare(modules)
        code = run(args.max_children)
        if code not in (0, 1):  # mutmut's own failure (not a survivor)
            return code
    return 0 if report(modules) else 1


if __name__ == "__main__":
    sys.exit(main())
