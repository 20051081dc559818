# The two set-up commands are `make run` and `make test`; both install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTEST_WORKERS ?= 2

.PHONY: run test lint format lock bench verify clean

$(VENV)/.installed: requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "orderdesk needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.lock
	touch $@

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_demo
	@# exec: `kill <make's pid>` (SIGTERM, which make forwards) then reaches serve, not a shell.
	PORT=$(PORT) exec $(PY) manage.py serve --port $(PORT)

test: $(VENV)/.installed
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Re-pin every dependency after changing pyproject.toml.
lock: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml -q --python-version 3.11 -o requirements.lock
	$(VENV)/bin/uv pip compile pyproject.toml -q --python-version 3.11 --extra dev -o requirements-dev.lock

# Benchmarks (not part of `make test`): `make bench SIZES=10000` measures only the sizes
# named; DATABASE_URL=postgres://… runs them on PostgreSQL, in a database named `bench`.
# FIGURES=pipeline (or pages, export, weight, tracking, comma-separated) measures only those.
SIZES ?= 10000,100000,1000000
FIGURES ?= pages,export,weight,pipeline,tracking
bench: $(VENV)/.installed
	$(PY) bench/run.py --sizes $(SIZES) --figures $(FIGURES)

# The verification battery of issue 8 against a live stack (gunicorn, worker, sandbox):
# full sizes by default; VERIFY_SCALE=ci for the CI-sized run; DATABASE_URL=… for PostgreSQL.
verify: $(VENV)/.installed
	$(PY) -m verify

clean:
	rm -rf $(VENV) staticfiles .test-db*.sqlite3*
