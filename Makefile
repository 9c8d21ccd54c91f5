# The two commands of the README: `make demo` and `make test`; `make lint` is what CI adds.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_OUT ?= demo-out

.PHONY: demo test test-all lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

# fangxu1 fitted plainly and in theorem mode, both checked; one report with both claims tables
demo: $(VENV)/.installed
	$(BIN)/mgdl-convex demo --out $(DEMO_OUT)

test: $(VENV)/.installed
	$(BIN)/python -m pytest -m "not slow"

test-all: $(VENV)/.installed
	$(BIN)/python -m pytest

# ruff, then the import contracts of pyproject.toml (layers that only point down, no cycle)
lint: $(VENV)/.installed
	$(BIN)/ruff check mgdl_convex proofs_check benchmarks tests
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .import_linter_cache
