#!/usr/bin/env python3
"""Run the benchmarks `make bench` runs, keep their output, and quote its figures.

    .venv/bin/python scripts/bench_figures.py run              # every bench (make bench)
    .venv/bin/python scripts/bench_figures.py run --only erp_read
    .venv/bin/python scripts/bench_figures.py show             # the block from the last run
    .venv/bin/python scripts/bench_figures.py write            # README from the last run
    .venv/bin/python scripts/bench_figures.py check            # README quotes the last run?

Each bench's whole output goes to ``bench/last-run.txt`` under a header naming the
command and the date (``--only`` replaces that bench's section and keeps the
others).  The figures block is every output line that states a figure against its
bound (it says MET, MISSED, PASS or FAIL, or names its target, bound or cap), under its
command; ``run`` (and ``write``, from the kept output alone) writes that
block into the README between the ``bench figures`` markers, so the README's
figures are always those of the last measured run.  ``make test`` checks that
they still are (tests/unit/test_readme_bench_figures.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAST_RUN = ROOT / "bench" / "last-run.txt"
README = ROOT / "README.md"
BEGIN = "<!-- bench figures: written by `make bench` (scripts/bench_figures.py); do not edit -->"
END = "<!-- end of bench figures -->"

# what `make bench` runs, in order: name -> arguments after the interpreter
BENCHES = {
    "engine_throughput": ["bench/engine_throughput.py"],
    "crm_upload": ["bench/crm_upload.py", "--orders", "5000"],
    "crm_hangs": ["bench/crm_hangs.py", "--orders", "300"],
    "erp_read": ["bench/erp_read.py"],
    "identity": ["bench/identity.py", "--sizes", "100000"],
    "soak": ["bench/soak.py", "--orders", "2000", "--store", "sqlite"],
}
HEADER = re.compile(r"^## (?P<command>bench/\S+\.py.*?)  \((?P<date>\d{4}-\d\d-\d\d)\)$")
# a line that sets a figure against its bound
VERDICT = re.compile(r"\b(MET|MISSED|PASS|FAIL|target|bound|cap)\b")


def sections(text: str) -> list[tuple[str, str, list[str]]]:
    """(command, date, output lines) of each bench in a last-run file, in order."""
    found: list[tuple[str, str, list[str]]] = []
    for line in text.splitlines():
        header = HEADER.match(line)
        if header:
            found.append((header["command"], header["date"], []))
        elif found:
            found[-1][2].append(line)
    return found


def figures_block(text: str) -> list[str]:
    """The lines the README quotes: per bench, its command and its figure lines."""
    block: list[str] = []
    for command, date, lines in sections(text):
        figures = [line.rstrip() for line in lines if VERDICT.search(line)]
        block.append(f"$ {command}   # {date}")
        block += figures or ["(no figure against a bound in its output)"]
    return block


def quoted(readme: str) -> list[str] | None:
    """The figures block the README holds (None when it has no markers)."""
    if BEGIN not in readme or END not in readme:
        return None
    inner = readme.split(BEGIN, 1)[1].split(END, 1)[0]
    return [line for line in inner.strip().strip("`").strip("\n").splitlines()]


def with_block(readme: str, block: list[str]) -> str:
    fenced = "\n".join([BEGIN, "```", *block, "```", END])
    if BEGIN in readme and END in readme:
        head, rest = readme.split(BEGIN, 1)
        return head + fenced + rest.split(END, 1)[1]
    raise SystemExit(f"{README}: no bench figures markers ({BEGIN!r} … {END!r})")


def run(only: list[str]) -> int:
    names = only or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        raise SystemExit(f"no such bench: {', '.join(unknown)} (known: {', '.join(BENCHES)})")
    kept = {c.split()[0]: (c, d, lines) for c, d, lines in sections(_read(LAST_RUN))}
    worst = 0
    for name in names:
        argv = BENCHES[name]
        command = " ".join(argv)
        print(f"## {command}", flush=True)
        proc = subprocess.Popen(
            [sys.executable, *argv],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
        )
        lines = []
        for line in proc.stdout:  # type: ignore[union-attr]
            print(line, end="", flush=True)
            lines.append(line.rstrip("\n"))
        worst = max(worst, proc.wait())
        kept[argv[0]] = (command, dt.date.today().isoformat(), lines)
    order = [BENCHES[n][0] for n in BENCHES]
    text = "".join(
        f"## {c}  ({d})\n" + "".join(f"{line}\n" for line in lines)
        for c, d, lines in sorted(kept.values(), key=lambda s: order.index(s[0].split()[0]))
    )
    LAST_RUN.write_text(text, encoding="utf-8")
    block = figures_block(text)
    README.write_text(with_block(_read(README), block), encoding="utf-8")
    print("\nfigures (README.md, bench/last-run.txt):\n" + "\n".join(block))
    return worst


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    sub.add_parser("run").add_argument("--only", action="append", default=[])
    sub.add_parser("show")
    sub.add_parser("write")
    sub.add_parser("check")
    args = parser.parse_args()
    if args.verb == "run":
        return run(args.only)
    block = figures_block(_read(LAST_RUN))
    if args.verb == "show":
        print("\n".join(block))
        return 0
    if args.verb == "write":
        README.write_text(with_block(_read(README), block), encoding="utf-8")
        return 0
    if quoted(_read(README)) != block:
        print("README.md's bench figures are not those of bench/last-run.txt: run make bench")
        return 1
    print("README.md quotes the last bench run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
