"""The Celery worker's liveness probe, run as the kubelet would run it, against a worker
started with the manifest's own command line on a private Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.celery_workers import Worker
from tests.deploy.manifests import REPO, containers, local_argv
from tests.polling import wait_until

pytestmark = [pytest.mark.sqlite_only, pytest.mark.slow]  # no database: Redis and a worker


def worker_container(rendered):
    return next(c for c in containers(rendered) if c.spec["name"] == "celery-worker")


def pod_env(broker_url: str) -> dict[str, str]:
    """What the worker's pod has that matters here: the broker through ORCH_REDIS_URL (the
    Secret), `python` on PATH, and HOSTNAME, which Kubernetes sets to the pod's name."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORCH_")}
    env["ORCH_REDIS_URL"] = broker_url
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HOSTNAME"] = socket.gethostname()
    env["C_FORCE_ROOT"] = "1"  # these tests may run as root; the image never does
    return env


def probe_passes(command: list[str], env: dict[str, str], timeout: float) -> bool:
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, timeout=timeout)
    return done.returncode == 0


def test_the_worker_liveness_probe_passes_while_the_worker_runs_and_fails_when_it_is_gone(
    rendered, redis_server, tmp_path
):
    container = worker_container(rendered)
    probe = container.spec["livenessProbe"]
    command = probe["exec"]["command"]
    env = pod_env(redis_server.url)
    worker = Worker(redis_server.url, "unused", tmp_path / "worker.log", env=env)
    worker.log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(worker.log_path, "ab") as log:
        worker.process = subprocess.Popen(
            local_argv(container.argv),
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(
            lambda: probe_passes(command, env, probe["timeoutSeconds"]),
            f"the liveness probe to pass ({worker.log_path})",
            timeout=120,
        )
    finally:
        worker.kill()
    assert not probe_passes(command, env, probe["timeoutSeconds"]), "probe passes, no worker"
