"""CPU seconds per component between marked moments of a benchmark run, and what the whole
machine did meanwhile.

A delay measured on a shared machine says little alone: it answers "how much CPU did our
processes need per unit of work" (which no neighbour changes) and "how many of the machine's
cores were busy, and how many of those were ours" (how much the neighbours took). Each mark
snapshots every named process tree's CPU (living processes and those already reaped, see
engine.tree_cpu), this process's own CPU (the benchmark's samplers run here) and the machine's
busy CPU time; `between` turns two marks into per-component seconds and cores.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from typing import Any

import psutil

from scheduler.benchmarks.engine import tree_cpu


class CpuPhases:
    def __init__(self, processes: dict[str, subprocess.Popen]) -> None:
        self.processes = processes
        self.marks: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def mark(self, name: str) -> None:
        """Snapshot now under `name` (the first snapshot of a name is kept)."""
        snapshot = {label: tree_cpu(proc.pid) for label, proc in self.processes.items()}
        own = psutil.Process(os.getpid()).cpu_times()
        snapshot["benchmark"] = own.user + own.system
        machine = psutil.cpu_times()
        snapshot["machine_busy"] = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
        snapshot["wall"] = time.monotonic()
        with self._lock:
            self.marks.setdefault(name, snapshot)

    def between(self, start: str, end: str, units: int) -> dict[str, Any] | None:
        """CPU seconds per component from mark `start` to mark `end`, the same per unit of
        work (`units`: tasks deferred, resumed…) in milliseconds, and the average busy cores:
        the whole machine's and ours (every component, the benchmark included)."""
        with self._lock:
            first, last = self.marks.get(start), self.marks.get(end)
        if first is None or last is None or units <= 0:
            return None
        wall = last["wall"] - first["wall"]
        cpu = {
            label: round(last[label] - first[label], 2) for label in [*self.processes, "benchmark"]
        }
        ours = sum(cpu.values())
        machine = last["machine_busy"] - first["machine_busy"]
        return {
            "seconds": round(wall, 2),
            "cpu_s": cpu,
            "cpu_ms_per_task": {
                **{label: round(1000 * value / units, 1) for label, value in cpu.items()},
                "total": round(1000 * ours / units, 1),
            },
            "busy_cores": {
                "machine": round(machine / wall, 2) if wall > 0 else None,
                "ours": round(ours / wall, 2) if wall > 0 else None,
                "of": psutil.cpu_count(),
            },
        }
