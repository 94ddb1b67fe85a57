"""CpuPhases: CPU seconds per process tree between two marks, and per unit of work."""

from __future__ import annotations

import subprocess
import sys

from scheduler.benchmarks.cpu_phases import CpuPhases

# Waits for a line, burns CPU, says so, then waits to be told to go: all the burning happens
# between the test's two marks, whatever the machine's speed or load.
BURNER = "import sys; sys.stdin.readline(); sum(range(3 * 10**6)); print('done', flush=True); sys.stdin.readline()"


def test_cpu_between_marks_is_per_tree_and_per_unit():
    child = subprocess.Popen(
        [sys.executable, "-c", BURNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        phases = CpuPhases({"burner": child})
        phases.mark("before")
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "done"
        phases.mark("after")
        figures = phases.between("before", "after", units=4)
    finally:
        child.communicate("end\n", timeout=30)
    assert figures is not None
    burned = figures["cpu_s"]["burner"]
    assert burned > 0
    assert figures["cpu_ms_per_task"]["burner"] == round(1000 * burned / 4, 1)
    assert set(figures["cpu_s"]) == {"burner", "benchmark"}
    assert figures["busy_cores"]["of"] >= 1


def test_a_phase_with_a_missing_mark_or_no_work_is_none():
    phases = CpuPhases({})
    phases.mark("start")
    assert phases.between("start", "end", units=10) is None  # never marked "end"
    phases.mark("end")
    assert phases.between("start", "end", units=0) is None


def test_the_first_snapshot_of_a_mark_is_kept():
    phases = CpuPhases({})
    phases.mark("first_fire")
    first = dict(phases.marks["first_fire"])
    sum(range(10**5))
    phases.mark("first_fire")  # sampled again later: ignored
    assert phases.marks["first_fire"] == first
