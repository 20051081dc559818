# The two set-up commands are `make run` and `make test`; both install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTEST_WORKERS ?= 2

.PHONY: run test lint format lock bench verify mutate clean

$(VENV)/.installed: requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "orderdesk needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

# The embedded demo: DEBUG is off unless given, so `run` turns demo mode on explicitly.
run: export DEBUG = true
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_demo
	@# exec: `kill <make's pid>` (SIGTERM, which make forwards) then reaches serve, not a shell.
	PORT=$(PORT) exec $(PY) manage.py serve --port $(PORT)

test: $(VENV)/.installed
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Templates djade formats: all but the tests' reference rows, compared byte for byte with
# the rows written in Python (a final newline djade adds would be a difference).
TEMPLATES := '*.html' ':!:tests/*/*_rows_template.html'

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports --no-cache
	git ls-files -z '*.py' | xargs -0 $(VENV)/bin/django-upgrade --target-version 5.2
	git ls-files -z $(TEMPLATES) | xargs -0 $(VENV)/bin/djade --target-version 5.2 --check

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
	git ls-files -z $(TEMPLATES) | xargs -0 $(VENV)/bin/djade --target-version 5.2

# Re-pin every dependency after changing pyproject.toml. Each pin carries its hashes, and
# every install uses --require-hashes: a package changed on the index fails the install.
LOCK := $(VENV)/bin/uv pip compile pyproject.toml -q --python-version 3.11 --generate-hashes
lock: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet uv
	$(LOCK) -o requirements.lock
	$(LOCK) --extra dev -o requirements-dev.lock

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

# Mutation testing (not part of CI: it takes hours of CPU). What is mutated and which tests
# guard it are set in pyproject.toml's [tool.mutmut]; the survivors left are explained in
# docs/mutation-survivors.md. A stopped run goes on where it left off; MUTATE_JOBS sets how
# many mutants are tested at once.
MUTATE_JOBS ?= 2
# mutmut is installed here, not with the dev dependencies: it brings setproctitle, which
# renames gunicorn's processes and so changes what tests/core/test_serve.py sees.
MUTMUT ?= mutmut==3.8.1
mutate: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet "$(MUTMUT)"
	$(VENV)/bin/mutmut run --max-children $(MUTATE_JOBS)
	$(PY) tests/support/mutation_score.py

clean:
	rm -rf $(VENV) staticfiles .test-db*.sqlite3* mutants
