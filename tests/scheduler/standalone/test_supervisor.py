"""The standalone process-tree supervisor with real processes (small Python children, no
Django): a dead child is restarted alone, a child that keeps dying stops the tree, children stop
in order, a second Ctrl-C is passed on, and nothing outlives the tree."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from tests.polling import wait_until

pytestmark = pytest.mark.sqlite_only  # no database at all

ROOT = Path(__file__).resolve().parents[3]


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def supervise(tmp_path: Path, children: list[dict], **spec) -> subprocess.Popen:
    out = (tmp_path / "supervisor.out").open("w")
    spec = {"children": children, "banner": "up", "backoff_first": 0.05, **spec}
    proc = subprocess.Popen(
        [sys.executable, "-m", "scheduler.standalone.supervisor", json.dumps(spec)],
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out.close()
    return proc


def output(tmp_path: Path) -> str:
    return (tmp_path / "supervisor.out").read_text()


def ready(tmp_path: Path, *names: str) -> bool:
    """The sleepers named have installed their SIGTERM handler."""
    path = tmp_path / "ready.log"
    return path.exists() and set(names) <= set(path.read_text().split())


def children_of(proc: subprocess.Popen) -> dict[str, int]:
    """name → pid of the supervisor's named children (their argv ends with the name)."""
    found = {}
    for child in psutil.Process(proc.pid).children():
        try:
            argv = child.cmdline()
        except psutil.Error:
            continue
        if argv:  # a child that exited and is not reaped yet (a zombie) has no argv
            found[argv[-1]] = child.pid
    return found


SLEEPER = """
import signal, sys, time
name = sys.argv[-1]
def term(*_):
    with open({log!r}, "a") as log:
        log.write(name + " TERM\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, term)
with open({ready!r}, "a") as ready:
    ready.write(name + "\\n")
time.sleep(600)
"""


def sleeper(tmp_path: Path, name: str) -> dict:
    code = SLEEPER.format(log=str(tmp_path / "stops.log"), ready=str(tmp_path / "ready.log"))
    return {"name": name, "argv": [*python(code), name]}


@pytest.fixture
def reap():
    procs: list[subprocess.Popen] = []
    yield procs.append
    for proc in procs:
        if proc.poll() is None:
            for p in psutil.Process(proc.pid).children(recursive=True):
                p.kill()
            proc.kill()
        proc.wait(30)


def test_a_child_that_dies_is_restarted_alone(tmp_path, reap):
    counter = tmp_path / "flaky.count"
    flaky = python(
        f"""
        import pathlib, sys, time
        counter = pathlib.Path({str(counter)!r})
        starts = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(starts))
        if starts == 1:
            sys.exit(3)
        time.sleep(600)
        """
    )
    proc = supervise(tmp_path, [sleeper(tmp_path, "steady"), {"name": "flaky", "argv": flaky}])
    reap(proc)
    wait_until(lambda: ready(tmp_path, "steady"), "steady to start")
    steady = children_of(proc)["steady"]
    wait_until(lambda: counter.exists() and counter.read_text() == "2", "flaky's restart")
    assert "flaky exited with code 3; restarting it in" in output(tmp_path)
    assert children_of(proc)["steady"] == steady, "the other child was left alone"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0


def test_a_child_that_keeps_dying_at_start_stops_the_tree(tmp_path, reap):
    proc = supervise(
        tmp_path,
        [sleeper(tmp_path, "steady"), {"name": "broken", "argv": python("raise SystemExit(1)")}],
    )
    reap(proc)
    wait_until(lambda: ready(tmp_path, "steady"), "steady to start")
    assert proc.wait(120) == 1
    assert "5 times in a row right after starting; stopping everything" in output(tmp_path)
    assert "steady TERM" in (tmp_path / "stops.log").read_text()


def test_children_stop_one_after_the_other_in_stop_order(tmp_path, reap):
    proc = supervise(
        tmp_path,
        [sleeper(tmp_path, "api"), sleeper(tmp_path, "sched")],
        stop_order=["sched", "api"],
    )
    reap(proc)
    wait_until(lambda: ready(tmp_path, "api", "sched"), "both children")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 0
    assert (tmp_path / "stops.log").read_text().splitlines() == ["sched TERM", "api TERM"]


def test_a_second_ctrl_c_is_passed_on_to_the_child_being_stopped(tmp_path, reap):
    log = tmp_path / "stubborn.log"
    stubborn = python(
        f"""
        import signal, sys, time
        count = 0
        def term(*_):
            global count
            count += 1
            with open({str(log)!r}, "a") as out:
                out.write("TERM\\n")
            if count == 2:
                sys.exit(0)
        signal.signal(signal.SIGTERM, term)
        open({str(log)!r} + ".ready", "w").close()
        while True:
            time.sleep(0.05)
        """
    )
    proc = supervise(tmp_path, [{"name": "stubborn", "argv": stubborn, "stop_timeout": 600}])
    reap(proc)
    wait_until(lambda: Path(f"{log}.ready").exists(), "the child")
    proc.send_signal(signal.SIGINT)
    wait_until(lambda: log.exists(), "the first SIGTERM to reach the child")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 0
    assert log.read_text().count("TERM") == 2


def test_orphans_re_parented_to_the_supervisor_do_not_outlive_it(tmp_path, reap):
    pid_file = tmp_path / "orphan.pid"
    parent = python(
        f"""
        import pathlib, subprocess, sys, time
        # A grandchild in its own session (not in the child's process group), like a runner.
        orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                                  start_new_session=True)
        pathlib.Path({str(pid_file)!r}).write_text(str(orphan.pid))
        time.sleep(600)
        """
    )
    proc = supervise(tmp_path, [{"name": "parent", "argv": parent}])
    reap(proc)
    orphan = int(wait_until(lambda: pid_file.exists() and pid_file.read_text(), "the grandchild"))
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0

    def gone() -> bool:
        try:
            return psutil.Process(orphan).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    wait_until(gone, "the orphaned grandchild to be gone", timeout=30)


TIGHT_LOOP_SUPERVISOR = """
import sys
from scheduler.standalone import supervisor
# Poll as often as possible: the main thread then spends most of its time inside its wait
# primitive, where a handler that took a lock (an Event.set()) would deadlock the stop.
supervisor.POLL = 0.0001
sys.exit(supervisor.main([{spec}]))
"""


def test_a_stop_signal_never_deadlocks_the_supervisor_whatever_it_was_doing(tmp_path, reap):
    """The signal handler takes no lock: SIGTERM lands at any point of the main loop, and
    the tree stops every time (this hung `manage.py standalone` forever, now and then)."""
    for attempt in range(12):
        home = tmp_path / str(attempt)
        home.mkdir()
        spec = {"children": [sleeper(home, "child")], "banner": "up"}
        out = (home / "supervisor.out").open("w")
        proc = subprocess.Popen(
            python(TIGHT_LOOP_SUPERVISOR.format(spec=repr(json.dumps(spec)))),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        reap(proc)
        wait_until(lambda home=home: ready(home, "child"), "the child")
        # A burst, as an impatient Ctrl-C or a process manager gives: every one of them must
        # land safely, wherever the main thread is (its loop, or already stopping).
        for _ in range(200):
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"attempt {attempt}: the supervisor did not stop after SIGTERM")
        assert code == 0
