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
# Bytecode: the suite starts thousands of Python processes over this one tree (pytest workers,
# servers, schedulers, runners, workers). Without cached bytecode (a clean clone, or an image
# that sets PYTHONDONTWRITEBYTECODE) each of them compiled the project's modules from source
# again (0.2-0.4 s of CPU for a runner or a `manage.py` process), and each pytest worker rewrote
# every test module's asserts again (~10 s of CPU per worker and pass). So the tree is compiled
# once here: the project's packages, and the test modules as pytest rewrites them (a collection,
# which caches them where every worker reads them). Then the passes run with bytecode writing
# off, whatever the image says: the DAG files the tests write at run time are never cached,
# since a file rewritten within the same second at the same size would load its stale bytecode.
echo "== bytecode"
env -u PYTHONDONTWRITEBYTECODE $PY -m compileall -q dagruns scheduler orchestrator_site manage.py
env -u PYTHONDONTWRITEBYTECODE $PY -m pytest --collect-only -q -p no:cacheprovider >/dev/null
export PYTHONDONTWRITEBYTECODE=1

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

# Four pytest workers on the 2-core machine: most tests wait on real subprocesses (servers,
# runners, browsers), and with two workers the passes kept about one core busy (CI logs: user+sys
# CPU time was ~0.95 x wall); every test owns its database, home and ports, so more at once is
# only more load, which the tests must stand anyway. ORCH_TEST_WORKERS overrides it. The Celery
# and Kubernetes passes keep two: each of their workers starts its own broker and workers or cluster.
WORKERS="${ORCH_TEST_WORKERS:-4}"
# xdist's default `--dist load` on purpose: it hands each worker its tests in collection order,
# which pytest-django relies on (plain `db` tests before transactional ones, whose flush deletes
# the data migrations' rows). `worksteal` moves tails of one worker's queue to another, out of
# that order; `loadfile` pins whole slow files (tests/e2e) to one worker and lengthens the tail.

echo "== tests on SQLite (every test: the embedded default)"
time $PY -m pytest -n "$WORKERS" --durations=15 "$@"

echo "== database tests on PostgreSQL"
# `database`: the tests whose outcome may depend on the engine (models, actions, queries,
# locking, several schedulers, migrations, the API...). tests/conftest.py gives the marker —
# to every test that uses the test database, unless shown not to matter — and says why (a
# test or module marked same_on_every_database opts out, its reason written where it is given).
time ORCH_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/orchestrator" \
    $PY -m pytest -n "$WORKERS" --durations=15 -m "database and not sqlite_only" "$@"

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
