"""`manage.py benchmark`: option checks, and the shape of the engine suite's JSON when the Celery
or the Kubernetes executor is measured next to the local one (tiny cases; figures are never
asserted)."""

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
        (["engine", "--api-host", "10.0.0.5"], "--api-host needs --executor kubernetes"),
        (
            ["engine", "--executor", "celery", "--api-host", "10.0.0.5"],
            "--api-host needs --executor kubernetes",
        ),
        (["engine", "--executor", "kubernetes", "--workers", "2"], "--workers needs --executor"),
        (["ui", "--executor", "kubernetes"], "engine suite only, not to: ui"),
    ],
)
def test_bad_executor_options_are_errors_naming_them(argv, message):
    with pytest.raises(CommandError, match=message):
        call_command("benchmark", *argv)


def test_a_configured_cluster_needs_an_api_host_its_pods_can_reach(orch_settings, tmp_path):
    """On the cluster of ORCH_KUBERNETES_CONFIG_FILE, pods run on its nodes: the benchmark's API
    server on loopback would be out of their reach, so it refuses before starting anything."""
    orch_settings.kubernetes_config_file = tmp_path / "kubeconfig"
    with pytest.raises(CommandError, match="pass --api-host") as refused:
        call_command("benchmark", "engine", "--executor", "kubernetes", "--cases", "chain:2:python")
    assert str(tmp_path / "kubeconfig") in str(refused.value)


@pytest.mark.slow
def test_kubernetes_figures_on_a_stand_in_are_reported_next_to_the_local_ones(tmp_path):
    """No cluster configured: the benchmark starts a stand-in, says so, measures it (its pods
    are its children), and reports the same comparison as the Celery run."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORCH_")}
    env["ORCH_HOME"] = str(tmp_path / "home")
    out = subprocess.run(
        [
            sys.executable, str(ROOT / "manage.py"), "benchmark", "engine",
            "--executor", "kubernetes", "--cases", "chain:2:python", "--repeat", "1",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)["engine"]
    assert figures["cluster"].startswith("stand-in cluster started by the benchmark")
    for executor in ("local", "kubernetes"):
        assert figures[executor]["python-chain-2"]["states"] == ["success"], executor
        assert figures[executor]["python-chain-2"]["inter_task_latency_median_ms"] is not None
    assert "kube_standin" in figures["kubernetes"]["peak_rss_mb"]
    assert set(figures["targets"]) == {
        "per_hop_median_ms",
        "fanout_100_kubernetes_wall_over_local",
    }
    chain = figures["comparison"]["python-chain-2"]
    assert set(chain) == {"per_hop_median_ms", "wall_s", "kubernetes_wall_over_local"}


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
