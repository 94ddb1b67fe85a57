#!/usr/bin/env bash
# The whole test command: install, start services, lint, check migrations, run the suite on
# SQLite, its database tests again on PostgreSQL, the engine's semantics suite on Celery, and its
# executor-sensitive part on Kubernetes.
# Any failure (including "no tests collected") fails the run. Each stage prints its wall and
# CPU time (user+sys of everything it started), so where the time goes is in every CI log.
set -euo pipefail
cd "$(dirname "$0")/.."
TIMEFORMAT="   (%Rs wall, %Us user, %Ss sys)"

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

echo "== tests on SQLite (every test: the embedded default)"
# Two workers: most tests wait on real subprocesses (servers, runners, browsers), so two at once
# use the 2-core machine instead of idling it; every test owns its database, home and ports.
time $PY -m pytest -n 2 --durations=15 "$@"

echo "== database tests on PostgreSQL"
# `database`: the tests whose outcome may depend on the engine (models, actions, queries,
# locking, several schedulers, migrations, the API...). tests/conftest.py gives the marker —
# to every test that uses the test database, unless shown not to matter — and says why.
time ORCH_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/orchestrator" \
    $PY -m pytest -n 2 --durations=15 -m "database and not sqlite_only" "$@"

echo "== the engine's semantics suite on the Celery executor (PostgreSQL, two real workers)"
# The production set-up: each pytest worker starts a private redis-server and two
# `manage.py celery worker` processes (tests/e2e/conftest.py); the e2e tests that do not drive
# the engine are skipped in this pass (they ran above). With the SQLite pass, every engine
# test runs in both set-ups people run: SQLite with the local executor, PostgreSQL with Celery.
time TEST_EXECUTOR=celery ORCH_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/orchestrator" \
    $PY -m pytest -n 2 --durations=15 -m "not sqlite_only" tests/e2e "$@"

echo "== the engine's executor-sensitive tests on the Kubernetes executor (SQLite, a stand-in cluster)"
# Each pytest worker starts a stand-in cluster (scheduler/kube_standin: the real Kubernetes API,
# pods run as local processes), each test gets its own namespace, each try its own pod. Only the
# tests marked `executor_sensitive` (retries, timeouts, reschedules, deferral, kills, XCom between
# processes): every try here starts a fresh interpreter, so the whole suite would cost ~10
# minutes; the rest of its semantics do not depend on where the runner runs.
time TEST_EXECUTOR=kubernetes $PY -m pytest -n 2 --durations=15 -m executor_sensitive tests/e2e "$@"
