# Tributary: `make run` starts everything on embedded defaults, `make test` runs the whole suite.
PYTHON ?= python3.11
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON := $(shell command -v $(PYTHON) 2>/dev/null || command -v python3)

.PHONY: install run test bench schema lint typecheck clean

$(UV):
	$(or $(UV_PYTHON),python3) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==0.13.9"

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-groups --quiet
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/python -m gateway dev

test: install
	$(VENV)/bin/python -m pytest -q

bench: install
	$(VENV)/bin/python tests/bench/run.py $(BENCH_ARGS)

schema: install
	$(VENV)/bin/python -m gateway.compose.export
	$(VENV)/bin/python -m gateway compose --config supergraph.yaml --out schema/supergraph.graphql

lint: install
	$(VENV)/bin/ruff check gateway shared subgraphs tests

typecheck: install
	$(VENV)/bin/mypy gateway shared

clean:
	rm -rf $(VENV) $(TOOLS) .data
