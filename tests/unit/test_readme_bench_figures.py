"""The README's benchmark figures are those `make bench` last printed, in its format."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _module(path: str, name: str):  # noqa: ANN202
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


figures = _module("scripts/bench_figures.py", "bench_figures")


def test_the_readme_quotes_the_figures_of_the_last_bench_run():
    last_run = figures.LAST_RUN.read_text(encoding="utf-8")
    readme = figures.README.read_text(encoding="utf-8")
    assert figures.quoted(readme) == figures.figures_block(last_run)


def test_the_last_run_holds_every_bench_make_bench_runs():
    ran = [
        command.split()[0]
        for command, _, _ in figures.sections(figures.LAST_RUN.read_text(encoding="utf-8"))
    ]
    assert ran == [argv[0] for argv in figures.BENCHES.values()]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "scripts/bench_figures.py run" in makefile.split("\nbench:", 1)[1].split("\n\n")[0]


def test_the_block_takes_each_benchs_figure_lines_under_its_command():
    text = (
        "## bench/a.py --n 5  (2026-11-28)\n"
        "warming up\n"
        "SQLite fresh  4,000 events/s   >= 5,000: MISSED\n"
        "## bench/b.py  (2026-11-27)\n"
        "  batch 17,812 records/s (target >= 20,000)\n"
        "  p99 0.7 ms\n"
        "peak concurrent requests   2 (cap 2)\n"
        "RESULT NOT MET (see above)\n"
    )
    assert figures.figures_block(text) == [
        "$ bench/a.py --n 5   # 2026-11-28",
        "SQLite fresh  4,000 events/s   >= 5,000: MISSED",
        "$ bench/b.py   # 2026-11-27",
        "  batch 17,812 records/s (target >= 20,000)",
        "peak concurrent requests   2 (cap 2)",
        "RESULT NOT MET (see above)",
    ]


def test_a_readme_edited_by_hand_is_told_apart():
    block = figures.figures_block(figures.LAST_RUN.read_text(encoding="utf-8"))
    readme = figures.with_block(figures.README.read_text(encoding="utf-8"), block)
    assert figures.quoted(readme) == block
    edited = readme.replace(block[1], block[1].replace("events/s", "events/s!"), 1)
    assert figures.quoted(edited) != block


def test_the_engine_benchs_lines_are_figure_lines_in_the_blocks_format():
    engine = _module("bench/engine_throughput.py", "engine_throughput_format")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        engine.report("PostgreSQL fresh", {"source": 1.0, "flow": 2.0, "total": 4_000.0}, 5_000.0)
    line = out.getvalue().strip()
    assert figures.VERDICT.search(line), line
    assert "80% of SQLite (>= 80%): MET" in line and ">= 5,000: MISSED" in line
