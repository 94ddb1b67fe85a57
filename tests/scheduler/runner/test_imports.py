"""The security rule in code: the task runner never imports Django, the ORM or the server."""

from __future__ import annotations

import subprocess
import sys

from tests.scheduler.runner.conftest import REPO

FORBIDDEN = ("django", "dagruns.models", "dagruns.actions", "dagruns.api", "orchestrator_site")


def test_no_runner_module_pulls_in_django_or_the_orm():
    code = (
        "import sys\n"
        "import scheduler.runner.__main__, scheduler.runner.supervisor, "
        "scheduler.runner.task_process, scheduler.runner.context, scheduler.runner.client\n"
        f"bad = sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r}))\n"
        "print(bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
