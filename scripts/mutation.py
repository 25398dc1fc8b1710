"""Mutation testing of the core modules: how many planted bugs do the tests catch?

    make mutation                                   # every core module
    .venv/bin/python scripts/mutation.py syncd/flows/order_rules.py   # some of them
    .venv/bin/python scripts/mutation.py --report   # the figures of the last run again
    .venv/bin/python scripts/mutation.py --resume   # go on with the last run's mutants

mutmut (3.8+) plants one small change at a time in a module — ``<`` for ``<=``,
``and`` for ``or``, a constant changed, a call's argument dropped — and runs the
tests that cover the changed function; a mutant that no test fails *survived*.
The run happens in a copy of the checkout (``build/mutation/``), so the working
tree is never touched.  Each run starts afresh (mutmut would keep a survivor's
verdict until its function changes, even after a test was added that kills
it); ``--resume`` keeps the last run's mutants and verdicts instead.

Each core module is tested by the fast tests that are about it (``CORE`` below:
no test that starts the daemon as a process, whose code mutmut cannot reach).
Printed per module: mutants, killed (a test failed, or timed out), survived,
not covered by those tests, and the kill ratio against the bound (85%).
Mutants that cannot change behaviour (equivalent) are listed with the reason
in ``tests/mutation_equivalent.txt`` and left out of the ratio, each with a
digest of its code: when the function changes and mutmut renumbers its
mutants, a listed name that now names another mutant is counted again (and
printed, to be judged afresh).  Exit 1 when a
module is under the bound.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
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

# the engine's in-process tests: they drive the store's queues as the daemon does
ENGINE = [
    "tests/integration/test_engine_pipeline.py",
    "tests/integration/test_planning_reads.py",
    "tests/integration/test_identity_planning.py",
    "tests/integration/test_actions_planning.py",
    "tests/integration/test_retention_engine.py",
    "tests/integration/test_cli_and_metrics.py",
    "tests/integration/test_onec_writes.py",
    "tests/integration/test_retailcrm_partial_uploads.py",
]
# core module -> the tests about it (run by mutmut for each of its mutants)
CORE: dict[str, list[str]] = {
    "syncd/store/leases.py": ["tests/integration/test_store_leases.py", *ENGINE],
    "syncd/store/outbox.py": [
        "tests/integration/test_store_outbox_rules.py",
        "tests/integration/test_store_inbox_outbox.py",
        "tests/integration/test_store_postgres_claims.py",
        "tests/integration/test_store_retention.py",
        *ENGINE,
    ],
    "syncd/store/inbox.py": [
        "tests/integration/test_store_inbox_outbox.py",
        "tests/integration/test_store_retention.py",
        "tests/integration/test_retention_orders.py",
        *ENGINE,
    ],
    "syncd/flows/order_rules.py": [
        "tests/unit/test_order_rules.py",
        "tests/unit/test_order_facts.py",
    ],
    "syncd/flows/order_state.py": [
        "tests/unit/test_order_state.py",
        "tests/unit/test_order_facts.py",
    ],
    "syncd/engine/actions.py": [
        "tests/unit/test_actions.py",
        "tests/integration/test_actions_planning.py",
    ],
    "syncd/connectors/onec/actions.py": ["tests/unit/test_actions.py"],
    "syncd/connectors/retailcrm/actions.py": ["tests/unit/test_actions.py"],
    "syncd/identity/match.py": [
        "tests/unit/test_identity_match.py",
        "tests/integration/test_identity.py",
        "tests/integration/test_identity_planning.py",
    ],
    "syncd/connectors/onec/values.py": [
        "tests/unit/test_onec_values.py",
        "tests/integration/test_onec_filter_property.py",
    ],
    "syncd/connectors/pos/csv_export.py": [
        "tests/unit/test_pos_csv.py",
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
# mutmut's exit codes (mutmut/stats.py): a failed test, a time-out, a crash or a type
# error all catch the mutant; 0 is a survivor; 5 and 33: no test runs its code
STATUS = {1: "killed", 3: "killed", 36: "killed", -24: "killed", 24: "killed", 152: "killed",
          255: "killed", 37: "killed", -11: "killed", -9: "killed", 0: "survived",
          5: "not covered", 33: "not covered"}  # fmt: skip


def prepare(modules: list[str], resume: bool) -> None:
    """The run's checkout: syncd/ and what the tests read, with mutmut's config."""
    if not resume:
        shutil.rmtree(WORK / "mutants", ignore_errors=True)
    WORK.mkdir(parents=True, exist_ok=True)
    for stale in (WORK / "tests", WORK / "mutants" / "tests"):  # tests moved or deleted
        shutil.rmtree(stale, ignore_errors=True)
    for name in ["syncd", *ALSO]:
        src, dst = ROOT / name, WORK / name
        if src.is_dir():
            shutil.copytree(
                src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
            )
        elif src.exists():
            shutil.copy2(src, dst)
    tests = sorted({t for m in modules for t in CORE[m]})
    config = {
        "source_paths": ["syncd/"],
        "only_mutate": modules,
        "also_copy": ALSO,
        "pytest_add_cli_args_test_selection": tests,
    }
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    text += "\n[tool.mutmut]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in config.items())
    (WORK / "pyproject.toml").write_text(text, encoding="utf-8")


def run(max_children: int) -> int:
    env = {**os.environ, "SYNCD_REQUIRE_OPS_TOOLS": "0"}
    # the console script: ``python -m mutmut`` would import mutmut's __main__ twice
    # (as __main__, then from its trampolines), and it sets the fork start method once only
    mutmut = [str(Path(sys.executable).parent / "mutmut"), "run"]
    mutmut += ["--max-children", str(max_children)]
    return subprocess.call(mutmut, cwd=WORK, env=env)


def equivalent() -> dict[str, tuple[str, str]]:
    """mutant name -> (digest of its code, why it cannot change behaviour), from
    tests/mutation_equivalent.txt: one ``NAME DIGEST REASON`` a line."""
    found = {}
    if EQUIVALENT.exists():
        for line in EQUIVALENT.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                name, digest, why = line.split(maxsplit=2)
                found[name] = (digest, why)
    return found


def digests(module: str) -> dict[str, str]:
    """Each mutant's name -> a short digest of its function as mutmut wrote it.

    mutmut numbers a function's mutants in order, so a change to the function
    renumbers them: an equivalent mutant is recognised by its code, not its name."""
    path = WORK / "mutants" / module
    prefix = module.removesuffix(".py").replace("/", ".") + "."
    found = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name:
            name, node.name = node.name, "mutant"
            found[prefix + name] = hashlib.sha256(ast.unparse(node).encode()).hexdigest()[:10]
    return found


def report(modules: list[str]) -> bool:
    """Print each module's figures; True when every one is at or over the bound."""
    listed = equivalent()
    ok, left_out, stale, survivors = True, [], [], []
    print(f"{'module':48} {'mutants':>8} {'killed':>7} {'survived':>9} {'uncovered':>10}  ratio")
    for module in modules:
        meta = WORK / "mutants" / (module + ".meta")
        if not meta.exists():
            print(f"{module:48} not run")
            ok = False
            continue
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        digest = digests(module)
        status = {k: STATUS.get(v, "other") for k, v in codes.items()}
        for name, (want, why) in listed.items():
            if name not in status:
                continue
            if status[name] == "survived" and digest.get(name) == want:
                left_out.append(f"  {name}: {why}")
            else:  # killed now, or another mutant under that name: judge it again
                stale.append(f"  {name} ({status[name]}, digest {digest.get(name)})")
        counted = {
            k: s for k, s in status.items() if not (k in listed and digest.get(k) == listed[k][0])
        }
        killed = sum(s == "killed" for s in counted.values())
        survived = [k for k, s in counted.items() if s == "survived"]
        survivors += [f"  {k} {digest.get(k)}" for k in survived]
        uncovered = sum(s == "not covered" for s in counted.values())
        if not counted:  # models only: mutmut changes code inside functions
            print(f"{module:48} {0:8}  no function to mutate")
            continue
        ratio = killed / len(counted)
        mark = "PASS" if ratio >= BOUND else "FAIL"
        ok = ok and ratio >= BOUND
        print(
            f"{module:48} {len(counted):8} {killed:7} {len(survived):9} {uncovered:10}"
            f"  {ratio:6.1%} (bound {BOUND:.0%}) {mark}"
        )
    where = EQUIVALENT.relative_to(ROOT)
    for title, lines in (
        (f"equivalent mutants left out ({where})", left_out),
        (f"listed in {where} but no longer the mutant judged there", stale),
        ("survivors (NAME DIGEST; show one: cd build/mutation && mutmut show NAME)", survivors),
    ):
        if lines:
            print(f"\n{title}:")
            print("\n".join(sorted(lines)))
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help="core modules (default: all of them)")
    parser.add_argument("--report", action="store_true", help="only print the last run's figures")
    parser.add_argument("--resume", action="store_true", help="keep the last run's verdicts")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    unknown = [m for m in args.modules if m not in CORE]
    if unknown:
        parser.error(f"not a core module: {', '.join(unknown)} (see CORE in {__file__})")
    modules = args.modules or list(CORE)
    if not args.report:
        prepare(modules, args.resume)
        code = run(args.max_children)
        if code not in (0, 1):  # mutmut's own failure (not a survivor)
            return code
    return 0 if report(modules) else 1


if __name__ == "__main__":
    sys.exit(main())
