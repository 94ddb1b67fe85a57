"""Measuring a command: wall time and the peak resident memory of its whole process tree."""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from dataclasses import dataclass

import psutil


@dataclass
class Measurement:
    seconds: float
    peak_tree_rss_mb: float
    returncode: int
    output: str


def run_measured(argv: list[str], env: dict[str, str], sample_every: float = 0.05) -> Measurement:
    """Run `argv`, sampling the summed RSS of it and all its descendants while it runs."""
    started = time.monotonic()
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(process.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                total = 0
                for proc in tree:
                    with contextlib.suppress(psutil.Error):
                        total += proc.memory_info().rss
                peak = max(peak, total)
            except psutil.Error:
                return
            done.wait(sample_every)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    seconds = time.monotonic() - started
    done.set()
    sampler.join()
    return Measurement(seconds, round(peak / 2**20, 1), process.returncode, output)
