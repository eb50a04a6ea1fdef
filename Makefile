# joinedup — the two commands that matter:
#   make demo   set everything up on a fresh machine, build the synthetic region, run the
#               pipeline and serve the app on http://127.0.0.1:8000
#   make test   lint, type-check and run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
VENV_STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Two workers; --dist loadscope keeps each module on one worker (module fixtures are built
# once, and tests in a module may build on each other). The synthetic regions the tests share
# are built once and cached (tests/regions.py), so the workers never build one twice.
PYTEST_WORKERS ?= 2
# The database tests also run against this PostgreSQL server; `make test JOINEDUP_TEST_POSTGRES_URL=`
# runs them on SQLite only.
JOINEDUP_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
export JOINEDUP_TEST_POSTGRES_URL

.PHONY: help install assets browser java demo test lint typecheck pytest bench lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV_STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
# --compile-bytecode: write .pyc files at install time, as pip does (uv does not by
# default), so no process pays to compile pandas, Splink and DuckDB's Python modules
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

install: $(VENV_STAMP) assets java ## Create the venv and install Python and front-end dependencies
# joinedup's own modules too: the editable install leaves them to be compiled on import, and
# where PYTHONDONTWRITEBYTECODE is set every process (each `joinedup match`) compiles them again
	@$(BIN)/python -m compileall -q src > /dev/null

assets: ## Build GOV.UK Frontend / MOJ Frontend assets from the pinned npm packages
	@scripts/build-assets.sh

browser: ## Install Debian's chromium for the browser tests when it is missing
	@scripts/ensure-chromium.sh

java: ## Install Debian's Java 17 for the Spark engine (JOINEDUP_ENGINE=spark) when it is missing
	@scripts/ensure-java.sh

demo: install ## Build the synthetic region, run the whole pipeline and serve the app
	$(BIN)/joinedup demo

# mypy (single-threaded, about a minute without its cache) runs niced beside pytest rather than
# before it: it takes the cores the two workers leave idle (collection, a worker waiting on the
# other's region build, the last module) instead of adding its own minute. Its output is shown
# after pytest's, and either failing fails `make test`.
test: install browser lint ## Lint, type-check and run every test
	@log=$$(mktemp); nice -n 10 $(BIN)/mypy >"$$log" 2>&1 & mypy=$$!; \
	$(MAKE) --no-print-directory pytest; status=$$?; \
	wait $$mypy; typed=$$?; echo "$(BIN)/mypy"; cat "$$log"; rm -f "$$log"; \
	[ $$status -eq 0 ] && [ $$typed -eq 0 ]

lint: $(VENV_STAMP) ## ruff lint and format check, and the import contracts (pyproject.toml)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/lint-imports --no-cache

typecheck: $(VENV_STAMP) ## mypy over the package
	$(BIN)/mypy

pytest: $(VENV_STAMP) ## The test suite (unit, SQLite and PostgreSQL, browser, slow)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

bench: install ## Run every benchmark script (long; see docs/benchmarks.md)
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# The lock holds the spark extra too (pyspark and py4j), so `make install` can run the Spark
# engine and `make test` its tests.
lock: ## Re-resolve requirements.lock from pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra spark --python-version 3.11 -o requirements.lock -q

clean: ## Remove the venv, built assets and caches (not your data)
	rm -rf $(VENV) node_modules src/joinedup/web/static/vendor .mypy_cache .ruff_cache .pytest_cache .grimp_cache .import_linter_cache
