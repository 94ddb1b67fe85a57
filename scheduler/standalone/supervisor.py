"""Running several commands as one process tree, Airflow-standalone style.

Each child's output is prefixed with its name. A child that dies is restarted on its own, with
backoff (1 s doubling to 30 s, back to 1 s once it ran a minute), not the whole tree: runners
keep running and report to the restarted API server, a restarted scheduler adopts them
(scheduler/scheduling/recovery.py). A child that keeps dying right after it starts (five times
in a row) stops the tree: it will not come up by itself.

Ctrl-C or SIGTERM stops the children one after the other, in `stop_order`: the scheduler first
(only its own pid gets SIGTERM: its forkserver and runners must outlive its drain), so it stops
taking work and lets running tries finish while the API server is still there to take their
reports; then the API server. A child that does not stop within its `stop_timeout` is killed
with its process group. A second Ctrl-C is passed on to the child being stopped (the scheduler
then ends its grace period at once).

This process is a child subreaper: runners orphaned by a dead scheduler are re-parented here,
not to init, so they are reaped when they end and none is left behind when the tree stops.
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
from typing import IO, Any

from scheduler.runner.fencing import become_subreaper

DEFAULT_STOP_TIMEOUT = 10.0
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0  # a child that ran this long before dying restarts after the first backoff
QUICK_DEATH = 10.0  # died this soon after starting …
MAX_QUICK_DEATHS = 5  # … this many times in a row: give up
POLL = 0.2


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    stop_timeout: float = DEFAULT_STOP_TIMEOUT
    process: subprocess.Popen | None = field(default=None, repr=False)
    started_at: float = 0.0
    restart_at: float | None = None
    first_backoff: float = BACKOFF_FIRST
    # Changes to the tree's environment for this child: a value sets, None removes (a Celery
    # worker gets no database settings).
    env: dict[str, str | None] = field(default_factory=dict)
    backoff: float = field(init=False)
    quick_deaths: int = 0
    restarts: int = 0

    def __post_init__(self) -> None:
        self.backoff = self.first_backoff


class ProcessTreeSupervisor:
    """Starts, restarts and stops the children of `manage.py standalone` (module docstring)."""

    def __init__(
        self,
        children: list[Child],
        out: IO[str] | None = None,
        stop_order: list[str] | None = None,
    ) -> None:
        self.children = children
        self.out = out or sys.stdout
        self.stop_order = stop_order or [c.name for c in children]
        # Set by the signal handler, read by the main loop. A plain attribute on purpose: a
        # handler runs in the main thread between any two bytecodes, so one that took a lock
        # (threading.Event.set() does) could find the main thread holding it in the middle
        # of Event.wait() and deadlock the whole tree's stop.
        self._stop_requested = False
        self._signals = 0
        self._print_lock = threading.Lock()
        self._width = max(len(c.name) for c in children + [Child("standalone", [])])
        self._env: dict[str, str] = {}
        self._stopping: Child | None = None

    def say(self, name: str, line: str) -> None:
        with self._print_lock:
            self.out.write(f"{name.ljust(self._width)} | {line}\n")
            self.out.flush()

    # -- starting and restarting ---------------------------------------------------------

    def start(self, env: dict[str, str]) -> None:
        self._env = env
        become_subreaper()
        for child in self.children:
            self._spawn(child)

    def _spawn(self, child: Child) -> None:
        env = {**self._env, **{k: v for k, v in child.env.items() if v is not None}}
        for name in [k for k, v in child.env.items() if v is None]:
            env.pop(name, None)
        child.process = subprocess.Popen(
            child.argv,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Its own process group: Ctrl-C reaches it only through us, and killing the group
            # at the end also takes whatever it started and left behind.
            start_new_session=True,
            text=True,
            bufsize=1,
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        threading.Thread(target=self._pump, args=(child.process, child.name), daemon=True).start()

    def _pump(self, process: subprocess.Popen, name: str) -> None:
        assert process.stdout
        for line in process.stdout:
            self.say(name, line.rstrip("\n"))

    def wait(self) -> int:
        """Keep the children up until asked to stop; then stop them in order. Returns the exit
        code for the whole tree (0 after a requested stop, 1 when a child would not stay up)."""
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        code = 0
        while not self._stop_requested:
            if not self._tend_children():
                code = 1
                break
            self._reap_orphans()
            time.sleep(POLL)  # a signal's handler runs at once; the loop sees it next round
        self.stop()
        return code

    def _on_signal(self, _signum: int, _frame: Any) -> None:
        self._signals += 1
        self._stop_requested = True
        child = self._stopping
        if self._signals > 1 and child is not None and child.process is not None:
            # Impatient: pass it on (the scheduler then ends its grace period at once).
            _signal_pid(child.process, signal.SIGTERM)

    def _tend_children(self) -> bool:
        """Restart children that died (with backoff); False when one keeps dying at start."""
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    self.say("standalone", f"restarting {child.name}")
                    self._spawn(child)
                continue
            if child.process is None or child.process.poll() is None:
                continue
            ran = now - child.started_at
            if ran >= STABLE_AFTER:
                child.backoff, child.quick_deaths = child.first_backoff, 0
            child.quick_deaths = child.quick_deaths + 1 if ran < QUICK_DEATH else 0
            if child.quick_deaths >= MAX_QUICK_DEATHS:
                self.say(
                    "standalone",
                    f"{child.name} exited with code {child.process.returncode} "
                    f"{child.quick_deaths} times in a row right after starting; stopping everything",
                )
                return False
            self.say(
                "standalone",
                f"{child.name} exited with code {child.process.returncode}; "
                f"restarting it in {child.backoff:g} s",
            )
            # Whatever it left in its group (a parser, a forkserver) goes; its runners lead
            # their own groups and live on, to be adopted by its next incarnation.
            _signal_group(child.process, signal.SIGKILL)
            child.restart_at = now + child.backoff
            child.backoff = min(BACKOFF_MAX, child.backoff * 2)
        return True

    def _reap_orphans(self) -> None:
        """Reap processes re-parented to us (a dead scheduler's runners) once they end. Peeks
        first (WNOWAIT): our own children are left for Popen, which reads their exit code."""
        ours = {c.process.pid for c in self.children if c.process is not None}
        while True:
            try:
                ended = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if ended is None or ended.si_pid in ours:
                return
            with contextlib.suppress(ChildProcessError):
                os.waitpid(ended.si_pid, os.WNOHANG)

    # -- stopping ------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the children in `stop_order`, each within its stop_timeout, then anything left
        below us."""
        self._stop_requested = True
        by_name = {c.name: c for c in self.children}
        ordered = [by_name[n] for n in self.stop_order if n in by_name]
        ordered += [c for c in self.children if c not in ordered]
        for child in ordered:
            child.restart_at = None
            process = child.process
            if process is None:
                continue
            if process.poll() is None:
                self._stopping = child
                _signal_pid(process, signal.SIGTERM)
                try:
                    process.wait(child.stop_timeout)
                except subprocess.TimeoutExpired:
                    self.say("standalone", f"{child.name} did not stop in time; killing it")
                    _signal_group(process, signal.SIGKILL)
                    process.wait()
                self._stopping = None
            # Anything it left behind in its group (a forkserver, a parser) goes too.
            _signal_group(process, signal.SIGKILL)
        self._kill_descendants()

    def _kill_descendants(self) -> None:
        """Nothing outlives the tree: runners re-parented to us, and anything they started."""
        import psutil  # only now: the supervisor stays small while it runs

        with contextlib.suppress(psutil.Error):
            left = psutil.Process().children(recursive=True)
            for process in left:
                with contextlib.suppress(psutil.Error):
                    process.kill()
            psutil.wait_procs(left, timeout=5)
        self._reap_orphans()


def _signal_pid(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        process.send_signal(sig)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def main(argv: list[str]) -> int:
    """`python -m scheduler.standalone.supervisor SPEC_JSON`: the standalone command execs
    into this after migrating, so the process that only watches its children does not keep
    Django and the project's imports in memory. SPEC_JSON: {"children": [{"name", "argv",
    "stop_timeout", "env"}, …], "stop_order": [name, …], "banner": "…", "backoff_first": s}
    (`manage.py cluster` too, with per-child "env" changes)."""
    import json

    spec = json.loads(argv[0])
    first_backoff = float(spec.get("backoff_first", BACKOFF_FIRST))  # tests shorten it
    supervisor = ProcessTreeSupervisor(
        [
            Child(
                c["name"],
                c["argv"],
                float(c.get("stop_timeout", DEFAULT_STOP_TIMEOUT)),
                first_backoff=first_backoff,
                env=dict(c.get("env") or {}),
            )
            for c in spec["children"]
        ],
        stop_order=spec.get("stop_order"),
    )
    supervisor.start(dict(os.environ))
    supervisor.say("standalone", spec.get("banner", "started"))
    code = supervisor.wait()
    supervisor.say("standalone", "stopped")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
