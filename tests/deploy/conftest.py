from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from tests.brokers import redis_server  # noqa: F401  (a fixture: tests/deploy/test_worker_probe)
from tests.deploy.manifests import EXAMPLE_OVERLAY, REPO, render


@pytest.fixture(scope="session")
def rendered() -> list[dict[str, Any]]:
    """The example overlay, rendered once per test session."""
    return render(EXAMPLE_OVERLAY)


@pytest.fixture(scope="session")
def manage_py_commands(tmp_path_factory) -> set[str]:
    """The commands `manage.py help --commands` lists: what a container may run."""
    env = {**os.environ, "ORCH_HOME": str(tmp_path_factory.mktemp("orch-home"))}
    env.pop("ORCH_DATABASE_URL", None)  # listing commands needs no database
    done = subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "help", "--commands"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())
