"""`manage.py benchmark`: option checks, and the shape of the engine suite's JSON when the Celery
executor is measured next to the local one (tiny cases; figures are never asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.processes import ROOT


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["engine", "--workers", "2"], "--workers needs --executor celery"),
        (["engine", "--executor", "local", "--workers", "1"], "--workers needs --executor celery"),
        (["engine", "--executor", "celery", "--workers", "0"], "--workers must be at least 1"),
        (["engine", "--executor", "celery", "--workers", "-3"], "--workers must be at least 1"),
        (["engine", "api", "--executor", "celery"], "engine suite only, not to: api"),
        (["standalone", "--executor", "celery"], "engine suite only, not to: standalone"),
    ],
)
def test_bad_executor_options_are_errors_naming_them(argv, message):
    with pytest.raises(CommandError, match=message):
        call_command("benchmark", *argv)


@pytest.mark.slow
def test_celery_figures_are_reported_next_to_the_local_ones(tmp_path):
    """A real run, two one-task-deep cases, one repetition: the JSON holds both executors'
    figures for each case, the worker count, the broker it used and the comparison."""
    # Nothing of this shell's ORCH_ settings leaks in: no ORCH_CELERY_BROKER_URL, so the
    # benchmark starts its own redis-server.
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORCH_")}
    env["ORCH_HOME"] = str(tmp_path / "home")
    out = subprocess.run(
        [
            sys.executable, str(ROOT / "manage.py"), "benchmark", "engine",
            "--executor", "celery", "--workers", "2",
            "--cases", "chain:3:python,fanout:3:bash", "--repeat", "1",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)["engine"]
    assert figures["workers"] == 2
    assert figures["broker"].startswith("private redis-server started by the benchmark")
    assert set(figures["targets"]) == {"per_hop_median_ms", "fanout_100_celery_wall_over_local"}
    for executor in ("local", "celery"):
        for case in ("python-chain-3", "bash-fanout-3"):
            assert figures[executor][case]["states"] == ["success"], (executor, case)
            assert figures[executor][case]["inter_task_latency_median_ms"] is not None
    assert figures["celery"]["worker_concurrency"] == 16  # ORCH_PARALLELISM 32 over 2 workers
    assert {"celery_worker_1", "celery_worker_2"} <= set(figures["celery"]["peak_rss_mb"])
    assert set(figures["comparison"]) == {"python-chain-3", "bash-fanout-3"}
    chain = figures["comparison"]["python-chain-3"]
    assert set(chain) == {"per_hop_median_ms", "wall_s", "celery_wall_over_local"}
