# Tributary: `make run` starts everything on embedded defaults, `make test` runs the whole suite.
PYTHON ?= python3.11
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON := $(shell command -v $(PYTHON) 2>/dev/null || command -v python3)

.PHONY: help install browser run test bench schema lint typecheck clean
.DEFAULT_GOAL := help

help: ## list the targets
	@awk -F ':.*## ' '/^[a-z][a-z-]*:.*## / { printf "  make %-10s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

$(UV):
	$(or $(UV_PYTHON),python3) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==0.13.9"

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-groups --quiet
	touch $@

install: $(VENV)/.installed ## install uv (.tools/) and the locked environment (.venv/)

# The GraphiQL browser test drives Debian's Chromium through chromedriver.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser: ## install Debian's chromium and chromium-driver when missing (the GraphiQL browser test)
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif command -v apt-get >/dev/null; then \
	  echo "installing chromium and chromium-driver (apt-get)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "no apt-get: the GraphiQL browser test will be skipped"; fi

run: install ## start every subgraph and the gateway (GraphiQL on :4000); Ctrl-C stops
	$(VENV)/bin/python -m devstack

test: install browser lint typecheck ## the checks, then the whole suite
	$(VENV)/bin/python -m pytest -q

bench: install ## measure the gateway against in-repo subgraphs (BENCH_ARGS=...)
	$(VENV)/bin/python tests/bench/run.py $(BENCH_ARGS)

schema: install ## re-export schema/<subgraph>.graphql and recompose the supergraph
	$(VENV)/bin/python -m devstack.export
	$(VENV)/bin/python -m gateway compose --config supergraph.yaml --out schema/supergraph.graphql

lint: install ## ruff over the code and the tests, and the import contracts (pyproject.toml)
	$(VENV)/bin/ruff check devstack gateway shared subgraphs tests
	$(VENV)/bin/lint-imports --no-cache

typecheck: install ## mypy (strict) over devstack/, gateway/ and shared/
	$(VENV)/bin/mypy devstack gateway shared

clean: ## remove .venv/, .tools/ and .data/ (dev databases and keys)
	rm -rf $(VENV) $(TOOLS) .data
