# Two commands: `make run` (the demo: both sandboxes, the daemon, a day of orders) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench mutation clean

$(STAMP): pyproject.toml sandbox/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./sandbox
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/syncd demo

test: $(STAMP)
	bash scripts/ensure-postgres
	bash scripts/ensure-ops-tools
	$(BIN)/ruff check .
	SYNCD_REQUIRE_OPS_TOOLS=1 $(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	bash scripts/ensure-postgres
	# each bench in turn; its output kept in bench/last-run.txt, its figures quoted in README.md
	$(BIN)/python scripts/bench_figures.py run

# every core module's kill ratio against 85% (scripts/mutation.py; long: see its docstring)
mutation: $(STAMP)
	bash scripts/ensure-postgres
	$(BIN)/python -m pip install --quiet -e '.[dev,mutation]'
	$(BIN)/python scripts/mutation.py

clean:
	rm -rf $(VENV) state .pytest_cache
