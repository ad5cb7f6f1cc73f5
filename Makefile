# 两条命令 / the two commands: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench loadtest lint format install

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/xinfang migrate --no-input
	XINFANG_PORTAL_URL=$${XINFANG_PORTAL_URL:-http://127.0.0.1:$${PORT:-8000}/portal/} \
	  $(BIN)/xinfang demo --if-empty --cases $${DEMO_CASES:-300}
	XINFANG_PORTAL_URL=$${XINFANG_PORTAL_URL:-http://127.0.0.1:$${PORT:-8000}/portal/} \
	  XINFANG_PROFILE=$${XINFANG_PROFILE:-development} \
	  $(BIN)/xinfang serve --host 127.0.0.1 --port $${PORT:-8000}

test: $(STAMP)
	$(BIN)/ruff check xinfang tests bench
	$(BIN)/ruff format --check xinfang tests bench
	$(BIN)/mypy
	bash scripts/test.sh $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run.py

# 50 concurrent users (citizens on the portal, staff on the queue) against gunicorn on loopback
# for 60 s; one JSON line per scenario (bench/loadtest.py --help for the options).
loadtest: $(STAMP)
	$(BIN)/python bench/loadtest.py $(LOADTEST_ARGS)

# mypy checks the files named in pyproject.toml ([tool.mypy] files) and keeps its incremental
# cache in .mypy_cache: a warm run re-reads only what changed.
lint: $(STAMP)
	$(BIN)/ruff check xinfang tests bench
	$(BIN)/ruff format --check xinfang tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format xinfang tests bench
	$(BIN)/ruff check --fix xinfang tests bench
