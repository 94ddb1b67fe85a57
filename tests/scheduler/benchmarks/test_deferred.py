"""`manage.py benchmark deferred`: its option checks, and the shape of its JSON from a tiny real
run (figures are never asserted)."""

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
    "argv", [["--deferred-tasks", "0"], ["--defer-seconds", "0"], ["--defer-seconds", "-1"]]
)
def test_bad_deferred_options_are_errors_naming_them(argv):
    with pytest.raises(CommandError, match="--deferred-tasks must be at least 1"):
        call_command("benchmark", "deferred", *argv)


def benchmark(tmp_path, *args: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORCH_")}
    env["ORCH_HOME"] = str(tmp_path / "caller")
    out = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "benchmark", "deferred", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)["deferred"]


@pytest.mark.slow
def test_the_deferred_suite_reports_resume_delays_and_the_triggerers_footprint(tmp_path):
    figures = benchmark(tmp_path, "--deferred-tasks", "3", "--defer-seconds", "3")
    assert figures["states"] == {"success": 3}
    assert (figures["mode"], figures["resumed"]) == ("resume_in_worker", 3)
    assert {"fire_to_resume_p50_ms", "fire_to_resume_p95_ms", "triggerer_cpu_s"} <= set(figures)
    assert set(figures["peak_rss_mb"]) == {"api_server", "scheduler", "triggerer"}
    # How far the host's wall clock was set during the run (its delays are wall-clock ones).
    assert isinstance(figures["wall_clock_set_s"], float)
    # Every resumed try's "Resuming" log line was found: fire → method entered is measured.
    assert figures["fire_to_method_ms"]["p95"] is not None
    assert figures["started_to_method_ms"]["p50"] is not None
    # Where the CPU went in each phase, per task and per process tree. The two phases are
    # told apart only when every task deferred before the first trigger fired, as the 4-Hz
    # sampler saw it (a loaded machine may run 3 tasks slower than 3 s): else they are null.
    phases = ["whole_run"]
    phases += [p for p in ("defer_phase", "resume_phase") if figures[p] is not None]
    if figures["peak_deferred_at_once"] < 3:
        assert figures["defer_phase"] is None and figures["resume_phase"] is None
    for phase in phases:
        assert set(figures[phase]["cpu_ms_per_task"]) == {
            "api_server", "scheduler", "triggerer", "benchmark", "total",
        }  # fmt: skip
        assert figures[phase]["busy_cores"]["of"] >= 1


@pytest.mark.slow
def test_end_from_trigger_reports_fire_to_end_in_the_same_shape(tmp_path):
    figures = benchmark(
        tmp_path, "--deferred-tasks", "3", "--defer-seconds", "3", "--end-from-trigger"
    )
    assert figures["states"] == {"success": 3}
    assert (figures["mode"], figures["resumed"]) == ("end_from_trigger", 3)
    assert figures["fire_to_resume_p95_ms"] is not None
    assert figures["scheduled_to_queued_ms"] == {"p50": None, "p95": None}  # nothing resumed


@pytest.mark.slow
def test_killing_the_triggerer_reports_the_takeover_and_exactly_once_resumes(tmp_path):
    # Long enough for the kill and the takeover (5 s of silence) before the triggers fire.
    figures = benchmark(
        tmp_path, "--deferred-tasks", "3", "--defer-seconds", "40", "--kill-triggerer"
    )
    assert figures["states"] == {"success": 3}
    kill = figures["kill"]
    assert kill["killed"] is True and kill["takeover_s"] is not None
    assert (kill["resumed_exactly_once"], kill["resumed_otherwise"]) == (3, 0)
