"""Graceful stop and fast recovery of a real standalone tree (issue 9), on the suite's database
engine: SIGTERM mid-run and restart; SIGKILL of the scheduler alone, of the API server alone, of
the whole tree, each followed by recovery. The heartbeat and queued timeouts are set to ten
hours, so a run that ends proves the recovery at start, the adoption or the restart — not those.

Tasks wait for a file the test creates ("release"), so "mid-run" is a state the test waits
for, never a guess about timing. Times are printed as figures, never asserted."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.e2e.standalone_tree import ROOT, StandaloneTree
from tests.polling import wait_until

pytestmark = pytest.mark.slow

DAG_SOURCE = """\
import time
from datetime import datetime
from pathlib import Path
from dagruns.sdk import DAG, PythonOperator

SIGNALS = Path({signals!r})


def wait_for_release(name):
    # Appends a line per start: the test counts how often the task ran.
    with open(SIGNALS / f"{{name}}.starts", "a") as starts:
        starts.write("start\\n")
    while not (SIGNALS / "release").exists():
        time.sleep(0.05)
    return name


def first_start_hangs(name):
    # The first execution outlives any grace period; a later one (after recovery) is quick.
    with open(SIGNALS / f"{{name}}.starts", "a") as starts:
        starts.write("start\\n")
    if (SIGNALS / f"{{name}}.starts").read_text().count("start") == 1:
        time.sleep(3600)
    return name


with DAG("lifecycle", schedule=None, start_date=datetime(2024, 1, 1), max_active_runs=4):
    finishes = PythonOperator(
        task_id="finishes", python_callable=wait_for_release, op_args=["finishes"],
        retries={retries}, retry_delay=0,
    )
    hangs = PythonOperator(
        task_id="hangs", python_callable={hangs}, op_args=["hangs"],
        retries={retries}, retry_delay=0,
    )
    after = PythonOperator(task_id="after", python_callable=lambda: "done")
    [finishes, hangs] >> after
"""


@pytest.fixture
def tree(tmp_path):
    trees: list[StandaloneTree] = []

    def make(retries: int = 0, hang: bool = True, **settings: str) -> StandaloneTree:
        """`hang`: the task `hangs` hangs on its first start (else it waits for release)."""
        tree = StandaloneTree(tmp_path / "home", **settings)
        trees.append(tree)
        tree.add_dag(
            "lifecycle.py",
            DAG_SOURCE.format(
                signals=str(tree.signals),
                retries=retries,
                hangs="first_start_hangs" if hang else "wait_for_release",
            ),
        )
        return tree

    yield make
    for tree in trees:
        tree.close()


def starts(tree: StandaloneTree, task: str) -> int:
    path = tree.signals / f"{task}.starts"
    return path.read_text().count("start") if path.exists() else 0


def release(tree: StandaloneTree) -> None:
    (tree.signals / "release").write_text("go")


def both_running(tree: StandaloneTree, run_id: str) -> bool:
    tries = tree.tries(run_id)
    return (
        tries.get("finishes", (None,))[0] == "running"
        and tries.get("hangs", (None,))[0] == "running"
        and starts(tree, "finishes") == 1
        and starts(tree, "hangs") == 1
    )


def start_mid_run(tree: StandaloneTree, run_id: str = "r1") -> None:
    tree.start()
    tree.wait_parsed("lifecycle")
    tree.trigger("lifecycle", run_id)
    wait_until(lambda: both_running(tree, run_id), "both tasks to be running")


def figure(name: str, seconds: float) -> None:
    print(f"\nFIGURE {name}: {seconds:.1f} s")


def test_sigterm_mid_run_then_restart_ends_every_task_as_if_nothing_happened(tree):
    """The stop lets `finishes` end while the API server still takes its report; `hangs`
    outlives the grace period and is queued again without using a retry; after the restart
    the run succeeds with every task at try 1 and nothing failed."""
    t = tree(SHUTDOWN_GRACE="5")
    start_mid_run(t)
    t.send(signal.SIGTERM)
    release(t)  # `finishes` may now end, inside the grace period
    assert t.wait() == 0
    wait_until(lambda: not t.leftovers(), "every process of the tree to be gone", timeout=30)
    state, try_number, _ = t.tries("r1")["hangs"]
    assert (state, try_number) == ("scheduled", 1), "handed back, not failed"
    assert "Queued again without using a retry" in t.log("lifecycle", "r1", "hangs")

    restarted = time.monotonic()
    t.start()
    wait_until(lambda: t.run_state("r1") == "success", "the run to succeed after the restart")
    figure("SIGTERM + restart: restart to run success", time.monotonic() - restarted)
    tries = t.tries("r1")
    assert {task: (s, n) for task, (s, n, _m) in tries.items()} == {
        "finishes": ("success", 1),
        "hangs": ("success", 1),
        "after": ("success", 1),
    }
    assert not [h for h in t.history("r1") if h[2] != "success"], "no try failed"
    assert starts(t, "hangs") == 2  # interrupted once, then finished
    assert t.stop() == 0
    wait_until(lambda: not t.leftovers(), "every process of the tree to be gone", timeout=30)


def kill_one_child_mid_run(tree, killed: str, spared: str, replaced_when) -> None:
    """SIGKILL one child of a tree whose two tasks are running; the supervisor restarts it
    alone; the runners keep going and, released, report their success themselves: no try
    runs twice and none fails."""
    t = tree(hang=False)
    start_mid_run(t)
    spared_pid = t.child(spared).pid
    victim = t.child(killed)
    assert victim is not None
    started = time.monotonic()
    victim.kill()
    wait_until(
        lambda: (
            (c := t.find_child(killed)) is not None and c.pid != victim.pid and replaced_when(t)
        ),
        f"the {killed} to be restarted",
    )
    figure(f"{killed} SIGKILL: kill to replaced and caught up", time.monotonic() - started)
    release(t)
    wait_until(lambda: t.run_state("r1") == "success", "the run to succeed")
    for task in ("finishes", "hangs"):
        assert t.tries("r1")[task][:2] == ("success", 1), "the try reported itself"
        assert starts(t, task) == 1, "not run again"
    assert t.child(spared).pid == spared_pid, f"only the {killed} was restarted"
    assert t.stop() == 0


def test_sigkill_of_the_scheduler_alone_restarts_it_and_adopts_the_running_tries(tree):
    kill_one_child_mid_run(
        tree, "scheduler", "api-server", lambda t: "2 runner(s) adopted" in t.output.read_text()
    )


def test_sigkill_of_the_api_server_alone_restarts_it_and_the_runs_carry_on(tree):
    kill_one_child_mid_run(tree, "api-server", "scheduler", lambda t: t.answers())


def test_sigkill_of_the_whole_tree_then_restart_recovers_at_start(tree):
    """Every process dies, runners and tasks included: at restart the running tries are failed
    at once with a log line (a retry is used, as for any lost worker) and run again."""
    t = tree(retries=1)
    start_mid_run(t)
    t.kill_everything()
    assert not t.leftovers()
    release(t)
    restarted = time.monotonic()
    t.start()
    wait_until(lambda: t.run_state("r1") == "success", "the run to succeed after the restart")
    figure("whole-tree SIGKILL + restart: restart to run success", time.monotonic() - restarted)
    tries = t.tries("r1")
    assert {task: s for task, (s, _n, _m) in tries.items()} == dict.fromkeys(
        ("finishes", "hangs", "after"), "success"
    )
    for task in ("finishes", "hangs"):
        assert tries[task][1] == 2
        assert "is gone: it ended with the previous scheduler" in t.log("lifecycle", "r1", task, 1)
    assert t.stop() == 0


def test_the_dag_source_is_valid_python():
    source = DAG_SOURCE.format(signals="/x", retries=0, hangs="first_start_hangs")
    compile(textwrap.dedent(source), "dag.py", "exec")


KILLED_AFTER_QUEUEING = """
import os, signal
from dagruns.domain.jobs import start_job
from scheduler.scheduling.loop import Scheduler
from tests.builders import RecordingExecutor

start_job("scheduler")
scheduler = Scheduler(executor=RecordingExecutor())
for _ in range(100):
    if scheduler.run_once().queued:
        break
# Killed after `queued` was committed, before any runner was started for it.
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_scheduler_killed_between_queueing_and_starting_runners_leaves_nothing_stuck(tree):
    t = tree(hang=False)
    release(t)
    t.manage("migrate", "--verbosity", "0")
    t.manage("dag_processor", "--once")
    t.trigger("lifecycle", "r1")
    died = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", KILLED_AFTER_QUEUEING],
        env=t.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert died.returncode == -signal.SIGKILL, died.stderr
    assert {s for s, _n, _m in t.tries("r1").values()} >= {"queued"}
    restarted = time.monotonic()
    t.start()
    wait_until(lambda: t.run_state("r1") == "success", "the run to succeed after the restart")
    figure("killed after queueing + restart: restart to run success", time.monotonic() - restarted)
    tries = t.tries("r1")
    assert {task: (s, n) for task, (s, n, _m) in tries.items()} == {
        "finishes": ("success", 1),
        "hangs": ("success", 1),
        "after": ("success", 1),
    }
    assert "stopped before a runner started it" in t.log("lifecycle", "r1", "finishes")
    assert t.stop() == 0
