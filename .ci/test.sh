#!/usr/bin/env bash
# The whole test command: install, start services, lint, check migrations, run the suite on
# SQLite and again on PostgreSQL. Any failure (including "no tests collected") fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/bootstrap.sh
bash .ci/services.sh
bash .ci/browser.sh   # Debian's Chromium for the Playwright tests, installed if missing

export ORCH_HOME="${ORCH_HOME:-$PWD/var/test-home}"
PY=.venv/bin/python

echo "== lint"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "== types"
# Packages and options come from pyproject.toml's [tool.mypy]; zero errors is the bar.
.venv/bin/mypy

echo "== layer contracts"
.venv/bin/lint-imports --no-cache

echo "== django checks"
$PY manage.py check
$PY manage.py makemigrations --check --dry-run

echo "== tests on SQLite"
# Two workers: most tests wait on real subprocesses (servers, runners, browsers), so two at once
# use the 2-core machine instead of idling it; every test owns its database, home and ports.
$PY -m pytest -n 2 "$@"

echo "== tests on PostgreSQL"
ORCH_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/orchestrator" \
    $PY -m pytest -n 2 -m "not sqlite_only" "$@"

echo "== the engine's semantics suite on the Celery executor (PostgreSQL, two real workers)"
# The production set-up: each pytest worker starts a private redis-server and two
# `manage.py celery worker` processes (tests/e2e/conftest.py); the e2e tests that do not drive
# the engine are skipped in this pass (they ran above).
TEST_EXECUTOR=celery ORCH_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/orchestrator" \
    $PY -m pytest -n 2 -m "not sqlite_only" tests/e2e "$@"
