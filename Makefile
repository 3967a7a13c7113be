# SOFinance: `make run` serves the demo on :8000, `make test` runs the suite on PostgreSQL + Redis.
# The virtual environment is (re)built when it is missing or a requirements file changed.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
REQUIREMENTS := $(wildcard requirements/*.txt)

# The suite's services; override on the command line or in the environment.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/sofinance
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# The suite is xdist-safe (a test database per worker, a Redis namespace per process).
PYTEST_ARGS ?= -n 2

.PHONY: help install run migrate demo test lint audit format bench load faults drill worker beat clean

help:
	@echo "make run      create .venv and .env if needed, migrate, load the demo, serve on :8000 (DEBUG=1)"
	@echo "make test     run the whole suite on PostgreSQL and Redis (DATABASE_URL / REDIS_URL)"
	@echo "make lint     ruff check + ruff format --check"
	@echo "make audit    pip-audit: known vulnerabilities in the pinned dependencies"
	@echo "make bench    run every bench/bench_*.py"
	@echo "make load     32 locust clients, mixed reads and writes against gunicorn; then the books are checked"
	@echo "make faults   kill and restart gunicorn, PostgreSQL, Redis and Celery under a posting load (private servers)"
	@echo "make drill    backup and restore drill: dump, restore into a fresh database, check the copy"
	@echo "make migrate  apply migrations    make worker / make beat   Celery worker / scheduler"
	@echo "make install  (re)build .venv from requirements/dev.txt"

install: $(STAMP)

$(STAMP): $(REQUIREMENTS)
	@test -n "$(PYTHON)" || { echo "Python 3.11+ is required (python3.11 or python3 on PATH)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required, found " + sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	touch $(STAMP)

# DATABASE_URL unset -> the embedded SQLite file db.sqlite3; REDIS_URL unset -> tasks run eagerly.
# The first run writes .env (DEBUG=1, development secrets): later manage.py commands need no make.
run: export DEBUG := 1
run: $(STAMP)
	$(BIN)/python -m sofinance.dev_env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo_setup
	@echo "Home: http://127.0.0.1:8000/   Admin: http://127.0.0.1:8000/admin/   API docs: http://127.0.0.1:8000/api/docs/"
	$(BIN)/python manage.py runserver 0.0.0.0:8000

migrate: $(STAMP)
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput

demo: $(STAMP)
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py demo_setup

test: $(STAMP)
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" \
	REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" \
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Known vulnerabilities in the installed (pinned) dependencies. Fails when pip-audit finds one;
# when its vulnerability service cannot be reached it says so and does not fail the build.
audit: $(STAMP)
	@set +e; out="$$($(BIN)/pip-audit --progress-spinner off 2>&1)"; rc=$$?; set -e; \
	echo "$$out" | grep -v "could not be audited"; \
	if echo "$$out" | grep -q "known vulnerabilit.* in"; then exit 1; fi; \
	if [ $$rc -ne 0 ] && ! echo "$$out" | grep -q "No known vulnerabilities"; then \
		echo "pip-audit could not complete (exit $$rc): dependencies NOT checked for known vulnerabilities"; fi

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Load test: locust clients against gunicorn on loopback (PostgreSQL, Redis), then a books check.
load: $(STAMP)
	$(BIN)/python bench/load.py

# Fault tests on a private PostgreSQL cluster and Redis server (never the shared ones): processes and
# servers killed or restarted under a posting load, then nothing acknowledged may be lost or doubled.
faults: $(STAMP)
	$(BIN)/python bench/faults.py

# Backup and restore drill (PostgreSQL): dump, restore into a fresh database, check the copy.
drill: $(STAMP)
	$(BIN)/python deploy/drill.py

worker: $(STAMP)
	DEBUG=$${DEBUG:-1} $(BIN)/celery -A sofinance worker --loglevel=INFO

beat: $(STAMP)
	DEBUG=$${DEBUG:-1} $(BIN)/celery -A sofinance beat --loglevel=INFO

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .hypothesis
