"""Running several commands as one process tree, Airflow-standalone style.

Each child's output is prefixed with its name. Ctrl-C or SIGTERM stops every child (SIGTERM,
then SIGKILL after a grace period, to the child's whole process group), and if one child dies
the others are stopped too: a half-running orchestrator is worse than a stopped one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

STOP_GRACE_SECONDS = 10.0


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    process: subprocess.Popen | None = field(default=None, repr=False)


class Supervisor:
    def __init__(self, children: list[Child], out=None) -> None:
        self.children = children
        self.out = out or sys.stdout
        self._stop = threading.Event()
        self._print_lock = threading.Lock()
        self._width = max(len(c.name) for c in children)

    def say(self, name: str, line: str) -> None:
        with self._print_lock:
            self.out.write(f"{name.ljust(self._width)} | {line}\n")
            self.out.flush()

    def start(self, env: dict[str, str]) -> None:
        for child in self.children:
            child.process = subprocess.Popen(
                child.argv,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # Its own process group: stopping it also stops whatever it started
                # (parser processes, task workers), and Ctrl-C reaches it only through us.
                start_new_session=True,
                text=True,
                bufsize=1,
            )
            threading.Thread(target=self._pump, args=(child,), daemon=True).start()

    def _pump(self, child: Child) -> None:
        assert child.process and child.process.stdout
        for line in child.process.stdout:
            self.say(child.name, line.rstrip("\n"))

    def wait(self) -> int:
        """Block until asked to stop or a child exits; then stop everything. Returns the exit
        code for the whole tree (0 after a clean stop)."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self._stop.set())
        failed: tuple[Child, int] | None = None
        while not self._stop.is_set():
            for child in self.children:
                code = child.process.poll() if child.process else None
                if code is not None:
                    failed = (child, code)
                    self._stop.set()
                    break
            self._stop.wait(0.5)
        if failed is not None:
            self.say(
                "standalone",
                f"{failed[0].name} exited with code {failed[1]}; stopping everything",
            )
        self.stop()
        return 1 if failed is not None else 0

    def stop(self) -> None:
        running = [
            (c.name, c.process) for c in self.children if c.process and c.process.poll() is None
        ]
        for _name, process in running:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say("standalone", f"{name} did not stop in time; killing it")
                _signal_group(process, signal.SIGKILL)
                process.wait()
        # Anything a child left behind in its group (an orphaned worker) goes too.
        for child in self.children:
            if child.process:
                _signal_group(child.process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def main(argv: list[str]) -> int:
    """`python -m scheduler.standalone.supervisor SPEC_JSON`: the standalone command execs
    into this after migrating, so the process that only watches its children does not keep
    Django and the project's imports in memory. SPEC_JSON: {"children": [[name, argv], …],
    "banner": "…"}."""
    import json

    spec = json.loads(argv[0])
    supervisor = Supervisor([Child(name, cmd) for name, cmd in spec["children"]])
    supervisor.start(dict(os.environ))
    supervisor.say("standalone", spec.get("banner", "started"))
    code = supervisor.wait()
    supervisor.say("standalone", "stopped")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
