"""Running one try from a Celery pool thread: the worker's forkserver forks a task runner, the
pool thread waits for it and returns its exit code (which the executor reads from the result
backend).

The worker's pool is Celery's `threads` pool (orchestrator_site/celery.py): every try is a
process of its own anyway (the runner, forked here, and the task process it forks), so a pool
of processes would only add a hop per try (the message pickled to a pool process, its result
pickled back) and a Python interpreter per slot (about 60 MB each) to wait on a child. A thread
waits just as well. `celery -A orchestrator_site worker -P prefork` still works: each pool
process then asks the same forkserver (`in_pool_process`).

As under the local executor (scheduler/executors/local.py), each runner is forked from a
pre-warmed forkserver that has already imported the runner and the SDK: a try starts with a
fork, not a fresh interpreter, and the runner inherits nothing of the process that asked for it
(here the worker, which holds the Celery messages with the tries' tokens and the broker's
sockets, and runs threads: forking it could copy a lock another thread holds). The worker's main
process starts the forkserver before its pool starts (`start_forkserver`, from
hooks.on_worker_init); every pool thread (or pool process) then asks the same server.

While a runner runs, its pid is kept in the worker's run directory under the try's name, so the
worker's main process can kill it when the scheduler asks (hooks.kill_runner): remote-control
commands run in the worker's main thread, tries in the pool's threads.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import multiprocessing.process as mp_process
import os
import select
import signal
import stat
import tempfile
import threading
import time
from multiprocessing import forkserver
from pathlib import Path
from typing import Any

from scheduler.runner.exit_codes import EXIT_NOT_CLAIMED, EXIT_NOT_REPORTED
from scheduler.runner.supervisor import run_workload

log = logging.getLogger("orchestrator.worker")

# What every runner needs, imported once by the forkserver (as scheduler/forkserver.py does for
# the local executor, minus what only the DAG processor uses).
PRELOAD = [
    "scheduler.runner.workload",
    "scheduler.runner.messages",
    "scheduler.runner.supervisor",
    "scheduler.forkserver_ready",
]

# multiprocessing's own "main process" class (its module deletes the name), taken while this
# module is imported in the worker's main process, before billiard replaces the object.
_MAIN_PROCESS_TYPE = type(mp_process.current_process())

# A terminate request only has to outlive the moment between a runner's start and its pid file.
KILL_REQUEST_TTL = 60.0

# Set in the worker's main process before the pool starts (inherited by prefork pool processes).
_run_dir: Path | None = None
_ctx: Any = None

# multiprocessing keeps one set of "children" per process and, in every start(), polls all of
# them for an exit code read from each one's sentinel. Runners of several pool threads live in
# one process: a thread polling another thread's runner as it ends would read the exit code
# meant for the thread waiting on it (which then reads EOF and records 255). So each runner
# leaves that set as it starts, under this lock: only the thread that started it reads its end.
_start_lock = threading.Lock()


RUN_DIR_PREFIX = "orchestrator-worker-"
# In each run directory: which worker made it (its pid, start time and pid namespace), so a
# worker starting later can tell a run directory of a worker that is gone (killed: no shutdown
# removed it).
OWNER_FILE = "owner"


def make_run_dir() -> Path:
    """The worker's run directory (made once, in the worker's main process). Run directories
    that workers killed on this host left behind are removed first."""
    global _run_dir
    if _run_dir is None:
        sweep_dead_run_dirs()
        _run_dir = Path(tempfile.mkdtemp(prefix=RUN_DIR_PREFIX))
        identity = process_identity(os.getpid())
        namespace = _pid_namespace()
        if identity is not None and namespace is not None:
            (_run_dir / OWNER_FILE).write_text(f"{identity} {namespace}")
    return _run_dir


def remove_run_dir() -> None:
    global _run_dir
    if _run_dir is not None:
        _remove_dir(_run_dir)
        _run_dir = None


def _remove_dir(path: Path) -> None:
    for entry in path.glob("*"):
        with contextlib.suppress(OSError):
            entry.unlink()
    with contextlib.suppress(OSError):
        path.rmdir()


def process_identity(pid: int) -> str | None:
    """`pid` and the process's start time (clock ticks after boot, /proc/PID/stat's 22nd
    field): a pid the kernel gave to another process since has another identity. None where
    /proc does not say (the process is gone, or not Linux)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    # The command name (2nd field) is in parentheses and may hold spaces: count after it.
    fields = raw.rpartition(b")")[2].split()
    return f"{pid} {int(fields[19])}"


def _pid_namespace() -> str | None:
    """This process's pid namespace (the inode of /proc/self/ns/pid): pids written by a worker
    in another namespace (another container sharing this temporary directory) mean nothing
    here."""
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return None


def sweep_dead_run_dirs() -> int:
    """Remove the run directories of this host's workers that are gone (their owner's pid no
    longer runs with the same start time); returns how many. Left alone: a directory of a
    live worker, one without an owner (a worker of an earlier version, or one being made), one
    whose owner is in another pid namespace, and anything that is not a real directory of this
    user (a symbolic link named like one must not lead the sweep elsewhere)."""
    namespace = _pid_namespace()
    if namespace is None:
        return 0
    removed = 0
    for path in Path(tempfile.gettempdir()).glob(RUN_DIR_PREFIX + "*"):
        try:
            info = path.lstat()
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
                continue
            pid, started, owner_namespace = (path / OWNER_FILE).read_text().split()
            alive = process_identity(int(pid)) == f"{pid} {started}"
        except (OSError, ValueError):
            continue
        if owner_namespace != namespace or alive:
            continue
        _remove_dir(path)
        if not path.exists():
            removed += 1
            log.info("removed the run directory %s of a worker that is gone (pid %s)", path, pid)
    return removed


def start_forkserver() -> None:
    """In the worker's main process, before the pool forks."""
    global _ctx
    _ctx = multiprocessing.get_context("forkserver")
    _ctx.set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()


def in_pool_process() -> None:
    """Under `-P prefork` only, in each pool process after the fork: use the main process's
    forkserver as is. Its `ensure_running()` would waitpid() the server, which only its parent
    (the main process) may do; the server's life is the main process's business, so it is not
    asked here."""
    server = getattr(forkserver, "_forkserver", None)
    if server is not None and getattr(server, "_forkserver_pid", None) is not None:
        server.ensure_running = lambda: None
    # Celery's pool (billiard) installs its own process object as multiprocessing's current
    # process: daemonic (multiprocessing then refuses children) and with billiard's authkey
    # (which multiprocessing cannot pickle into a new process). Runners are the forkserver's
    # children, not this process's, each waited for to its end: this process speaks
    # multiprocessing as a main process of its own.
    if _MAIN_PROCESS_TYPE.__name__ == "_MainProcess":
        mp_process._current_process = _MAIN_PROCESS_TYPE()  # type: ignore[attr-defined]


def pid_file(ti_id: str, try_number: int) -> Path | None:
    if _run_dir is None:
        return None
    # ti ids are UUIDs (the executor sends them from our own rows): safe as file names.
    return _run_dir / f"{ti_id}.{try_number}.pid"


def kill_file(ti_id: str, try_number: int) -> Path | None:
    """Where the main process notes a terminate request (hooks.kill_runner): a request that
    arrives between the runner's start and its pid file is not lost."""
    if _run_dir is None:
        return None
    return _run_dir / f"{ti_id}.{try_number}.kill"


def expire_kill_requests(max_age: float = KILL_REQUEST_TTL) -> None:
    """Forget terminate requests for tries that did not start here soon after (the requests go
    to every worker; only the one running the try needs its request)."""
    if _run_dir is None:
        return
    too_old = time.time() - max_age
    for request in _run_dir.glob("*.kill"):
        with contextlib.suppress(OSError):
            if request.stat().st_mtime < too_old:
                request.unlink()


def _kill_group(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


def run_try(
    workload_json: str, worker_name: str, ti_id: str, try_number: int, api_url: str | None
) -> int:
    """Start a runner for the workload and wait for it; its exit code (negative: killed by that
    signal). `api_url`, when the worker sets ORCH_API_URL, replaces the scheduler's (as in
    Airflow 3 the worker's own `execution_api_server_url` decides where its runners report)."""
    if api_url:
        data = json.loads(workload_json)
        if isinstance(data, dict):
            data["api_url"] = api_url
        workload_json = json.dumps(data)
    wire = bytearray(workload_json.encode("utf-8"))
    del workload_json
    ctx = _ctx or multiprocessing.get_context("forkserver")
    process = ctx.Process(
        target=run_workload,
        args=(wire,),
        kwargs={"hostname": worker_name},
        name=f"task runner {ti_id} try {try_number}",
    )
    try:
        with _start_lock:
            process.start()
            _children().discard(process)
    except Exception as exc:
        # Nothing started, nothing claimed: the scheduler queues the try again, no retry used.
        log.error("cannot start a task runner (the worker's forkserver is gone?): %s", exc)
        return EXIT_NOT_CLAIMED
    finally:
        wire[:] = bytes(len(wire))
    pid = process.pid
    assert pid is not None
    marker = pid_file(ti_id, try_number)
    killed = kill_file(ti_id, try_number)
    if marker is not None:
        with contextlib.suppress(OSError):
            marker.write_text(str(pid))
    # After writing the pid file (the main process writes its request before reading it):
    # one of the two always sees the other.
    if killed is not None and killed.exists():
        _kill_group(pid)
    try:
        _wait_for_exit(pid)
        process.join()
    finally:
        for path in (marker, killed):
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink()
    code = process.exitcode
    process.close()
    # 255: the forkserver that reports the code died (it was killed with the worker's process
    # group); the runner has ended too by now (waited on above), having reported or not.
    return int(code) if code is not None else EXIT_NOT_REPORTED


def _children() -> set[Any]:
    children: set[Any] = getattr(mp_process, "_children", set())
    return children


def _wait_for_exit(pid: int) -> None:
    """Until the runner itself has exited: its pidfd, not the forkserver's report, which ends
    early when the forkserver dies while the runner still runs (and reports)."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return  # already gone (or no pidfd): join() says how it ended
    try:
        while True:
            try:
                if select.select([pidfd], [], [])[0]:
                    return
            except InterruptedError:
                continue
    finally:
        os.close(pidfd)
