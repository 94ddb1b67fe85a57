"""The processes that need the schema wait for it: their init container fails while the
migrate Job has not run and passes once it has, run here as the containers' own commands on
a scratch SQLite database."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.deploy.manifests import REPO, by_kind_and_name, containers, local_argv, pod_spec

pytestmark = pytest.mark.sqlite_only  # its own scratch SQLite database, not the suite's

NEEDS_SCHEMA = {
    "orchestrator-api-server",
    "orchestrator-scheduler",
    "orchestrator-dag-processor",
    "orchestrator-triggerer",
    "orchestrator-celery-beat",
}


def run(argv: list[str], home) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORCH_")}
    env["ORCH_HOME"] = str(home)
    return subprocess.run(
        local_argv(argv), env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )


def test_every_process_that_needs_the_schema_waits_for_migrations(rendered):
    objects = by_kind_and_name(rendered)
    for name in NEEDS_SCHEMA:
        init = pod_spec(objects["Deployment", name]).get("initContainers", [])
        assert [c["args"] for c in init] == [["migrate", "--check"]], name
    # A worker has no database: it waits for nothing.
    worker = pod_spec(objects["Deployment", "orchestrator-celery-worker"])
    assert not worker.get("initContainers")


def test_the_wait_fails_before_the_migrate_job_and_passes_after_it(rendered, tmp_path):
    wait = next(c for c in containers(rendered) if c.spec["name"] == "wait-for-migrations")
    migrate = next(c for c in containers(rendered) if c.spec["name"] == "migrate")
    assert run(wait.argv, tmp_path).returncode != 0
    done = run(migrate.argv, tmp_path)
    assert done.returncode == 0, done.stderr
    done = run(wait.argv, tmp_path)
    assert done.returncode == 0, done.stderr
