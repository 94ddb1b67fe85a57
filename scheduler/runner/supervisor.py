"""The supervisor: runs one try of a task in a forked task process and speaks for it to the
Execution API (Airflow 3's supervisor / task-runner split).

`run_workload(workload)` is the entry point every executor starts (the local executor calls it
in a process forked from its forkserver). It claims the try, forks the task process
(scheduler/runner/task_process.py), then loops on `select()` until the task process ends:

* control channel first (requests of the task for XComs, variables and connections, which it
  proxies to the API, registering secrets with the masker before answering; the result), so a
  line printed with a freshly fetched secret is always masked;
* output: the task's stdout and stderr (one pipe, so their order is kept), cut into lines,
  masked, shipped in chunks (scheduler/runner/logship.py);
* heartbeat every `heartbeat_interval` seconds; a 409 (or 403/404) means the try was cleared,
  marked or failed from outside: the task is killed and nothing more is reported;
* `execution_timeout`: the task process group gets SIGTERM, then SIGKILL after KILL_GRACE.

When the task process has exited, its CPU time and peak memory come from `wait4()`'s rusage,
the remaining logs are flushed and the final state is reported.

The supervisor never imports Django: everything it knows comes from the workload and the API.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback
from datetime import UTC, datetime
from typing import Any

from dagruns.sdk.masking import SecretsMasker
from scheduler.runner import comms, fencing, task_process
from scheduler.runner import messages as m
from scheduler.runner.client import ExecutionApiError, ExecutionApiUnreachable, ExecutionClient
from scheduler.runner.exit_codes import (
    EXIT_INVALID_WORKLOAD,
    EXIT_NOT_CLAIMED,
    EXIT_NOT_REPORTED,
    EXIT_OK,
    EXIT_TRY_GONE,
)
from scheduler.runner.logship import LineSplitter, LogShipper
from scheduler.runner.task_test import TaskTest
from scheduler.runner.workload import InvalidWorkload, Workload

# Exit codes of run_workload (scheduler/runner/exit_codes.py, read by the scheduler's health).
EXIT_CODES = (
    EXIT_INVALID_WORKLOAD,
    EXIT_NOT_CLAIMED,
    EXIT_NOT_REPORTED,
    EXIT_OK,
    EXIT_TRY_GONE,
)

DEFAULT_HEARTBEAT_INTERVAL = 5.0
# How long the claim, the log backlog and the final report keep being retried while the API is
# unreachable, when the workload does not say (ORCH_TASK_REPORT_RETRY_TIMEOUT).
DEFAULT_REPORT_RETRY_TIMEOUT = 240.0
# Log lines kept while the API is unreachable during the run; beyond, the oldest are dropped
# (and a line in the log says how many).
MAX_BACKLOG_BYTES = 64 * 1024 * 1024
BACKLOG_RETRY_MAX = 5.0
KILL_GRACE = 3.0  # SIGTERM → SIGKILL; under the local executor's 5 s of end()
DRAIN_TIMEOUT = 5.0  # after the task exited, how long its leftover children may hold the pipe
# How long a new try waits for an earlier copy of the same task instance on this host (being
# killed: its runner died or it was cleared) to be gone before refusing to start a second one.
FENCE_WAIT = 60.0
MAX_WAIT = 0.5  # select() never sleeps longer, so signals and deadlines are seen promptly
READ_SIZE = 64 * 1024
TRY_GONE_STATUSES = frozenset({403, 404, 409})
# The Execution API path answering each question a task asks about other DAGs' states.
EXTERNAL_STATE_PATHS = {
    "get_dr_count": "dag-runs/count",
    "get_ti_count": "task-instances/count",
    "get_task_states": "task-instances/states",
}
FINAL_STATES = frozenset({"success", "failed", "skipped", "up_for_reschedule", "deferred"})


def run_workload(
    workload: Workload | dict[str, Any] | bytes | bytearray | str,
    hostname: str | None = None,
    *,
    task_test: TaskTest | None = None,
) -> None:
    """Run one try; exits the process with one of the EXIT_* codes.

    `hostname` is what the claim records as the try's host (default: this machine's name); a
    Celery worker passes its own name (`celery@host`), so a lost try names its lost worker.
    `task_test`: the try is run by `tasks test` (through the foreground executor only).

    `workload` is validated first (scheduler/runner/workload.py): an invalid one is refused
    with EXIT_INVALID_WORKLOAD before anything is claimed. Executors pass the wire form (a
    bytearray, wiped once parsed) so no copy of the token is left behind in this process.

    Leads a new process group first, so the executor's terminate() (killpg on this pid) reaches
    this process and the task process's watchdog takes the task's own group down with it.
    """
    with contextlib.suppress(OSError):
        os.setpgrp()
    # Orphans of the task are re-parented to us, so the try's end can kill all of them.
    subreaper = fencing.become_subreaper()
    try:
        parsed = Workload.parse(workload)
    except InvalidWorkload as exc:
        print(f"[task runner] refusing the workload: {exc}", file=sys.stderr, flush=True)
        sys.exit(EXIT_INVALID_WORKLOAD)
    del workload
    supervisor = Supervisor(parsed, subreaper=subreaper, hostname=hostname, task_test=task_test)
    sys.exit(supervisor.run())


def supervise(workload: Workload | dict[str, Any], client: ExecutionClient | None = None) -> int:
    """Run one try in this process; returns the exit code (see EXIT_*)."""
    return Supervisor(workload, client).run()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = "unknown signal"
        return f"was killed by signal {number} ({name})"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"


class _Stop(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


class Supervisor:
    def __init__(
        self,
        workload: Workload | dict[str, Any],
        client: ExecutionClient | None = None,
        *,
        subreaper: bool = False,
        hostname: str | None = None,
        task_test: TaskTest | None = None,
    ) -> None:
        self.workload = Workload.parse(workload)
        self.task_test = task_test
        # From here on the client holds the only copy of the token (and swaps in refreshed
        # ones); the workload, which the task process will see, no longer has it.
        token, self.workload.token = self.workload.token, ""
        self.client = client or ExecutionClient(self.workload.api_url, token)
        del token
        self.ti_id = self.workload.ti_id
        self.hostname = hostname or socket.gethostname()
        self.heartbeat_interval = self.workload.heartbeat_interval or DEFAULT_HEARTBEAT_INTERVAL
        self.execution_timeout = self.workload.execution_timeout
        # True when this process is the try's child subreaper (run_workload): it then owns, and
        # at the end kills, everything below it. supervise() in a test process is not.
        self.subreaper = subreaper
        self.report_patience = self.workload.report_retry_timeout or DEFAULT_REPORT_RETRY_TIMEOUT
        # Log chunks the API did not take yet (unreachable), oldest first, kept until it does.
        self.backlog: list[list[str]] = []
        self.backlog_bytes = 0
        self.lost_lines = 0
        self.backlog_delay = 0.0
        self.next_backlog_retry = 0.0
        self.fence = fencing.Fence(self.ti_id)
        self.fenced_out = False
        self.masker = SecretsMasker()
        self.shipper = LogShipper(self._send_logs)
        self.splitter = LineSplitter()
        self.frames = comms.FrameReader()

        self.pid: int | None = None
        self.pidfd: int | None = None
        self.out_fd: int | None = None
        self.sock: socket.socket | None = None
        self.started = 0.0
        self.deadline: float | None = None
        self.next_heartbeat = 0.0
        self.claim: dict[str, Any] = {}
        self.result: m.TaskResult | None = None
        self.exit_status: int | None = None
        self.rusage: Any = None
        self.killing = False
        self.kill_deadline = 0.0
        self.sigkilled = False
        self.timed_out = False
        self.terminated = False
        self.try_gone = False
        self.gone_exit_code = EXIT_TRY_GONE
        self._terminate_requested = False

    # -- the whole try ---------------------------------------------------------------------

    def run(self) -> int:
        previous = self._install_signal_handlers()
        try:
            self.claim = self._claim()
            if self.fence.acquire(FENCE_WAIT):
                self._start(self.claim)
                self._say_unused_executor_config()
                self._watch()
            else:
                self.fenced_out = True
            return self._report()
        except _Stop as stop:
            return stop.code
        except BaseException as exc:
            self._stderr(f"runner failed: {type(exc).__name__}: {exc}")
            traceback.print_exc(file=sys.stderr)
            self._kill_now()
            return EXIT_NOT_REPORTED
        finally:
            self._close()
            self.client.close()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}

        def request_termination(signum: int, frame: Any) -> None:
            self._terminate_requested = True

        return {signal.SIGTERM: signal.signal(signal.SIGTERM, request_termination)}

    def _say_unused_executor_config(self) -> None:
        """An executor that reads `executor_config` (the Kubernetes executor, a Celery worker
        launching a pod) hands the runner a workload without it: what is left here was read by
        no one. Airflow's local and Celery executors drop it silently; we say so in the log."""
        unused = sorted(self.workload.executor_config)
        if unused:
            self._log(
                "WARNING",
                f"executor_config {unused} is not used: this try runs as a local process on "
                f"{self.hostname}; only the Kubernetes executor and Celery workers read "
                "'pod_override' and 'pod_template_file' (executor=\"kubernetes\" on the task, "
                "or a Celery worker, runs it in a pod)",
            )

    def _claim(self) -> dict[str, Any]:
        try:
            return self.client.claim(
                self.ti_id,
                hostname=self.hostname,
                pid=os.getpid(),
                start_date=_now_iso(),
                patience=self.report_patience,
            )
        except ExecutionApiUnreachable as exc:
            self._stderr(
                f"could not reach the Execution API to claim the try for "
                f"{self.report_patience:g} s; giving it back to the queue: {exc}"
            )
            raise _Stop(EXIT_NOT_CLAIMED) from None
        except ExecutionApiError as exc:
            if exc.status == 409:
                # Another runner has it, or it was cleared after being queued: not ours to run.
                self._stderr(f"not running: the try is no longer queued ({exc.message})")
                raise _Stop(EXIT_OK) from None
            self._stderr(f"could not claim the try: {exc}")
            raise _Stop(EXIT_NOT_REPORTED) from None

    def _start(self, claim: dict[str, Any]) -> None:
        out_r, out_w = os.pipe()
        parent_sock, child_sock = socket.socketpair()
        self.started = time.monotonic()
        if self.execution_timeout is not None:
            self.deadline = self.started + self.execution_timeout
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        supervisor_pid = os.getpid()
        pid = os.fork()
        if pid == 0:  # the task process
            try:
                # First: from here on the task process cannot outlive this runner.
                fenced = fencing.die_with_parent(supervisor_pid)
                os.close(out_r)
                parent_sock.close()
                self.client.close()  # our copy of the supervisor's HTTP socket
                # Task code talks through the supervisor only: it has no use for the token,
                # and this was the last reference to it in this process (issue 10).
                self.client.token = ""
                task_process.main(
                    self.workload,
                    claim,
                    child_sock,
                    out_w,
                    self.deadline,
                    watchdog=not fenced,
                    task_test=self.task_test,
                )
            finally:
                os._exit(70)
        os.close(out_w)
        child_sock.close()
        # Also done by the child: whichever runs first, the group exists before we signal it.
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)
        self.pid = pid
        self.out_fd = out_r
        self.sock = parent_sock
        self.sock.settimeout(60.0)
        try:
            self.pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self.pidfd = None  # no pidfd: select's timeout polls for the exit instead
        self.next_heartbeat = self.started + self.heartbeat_interval

    # -- the loop ----------------------------------------------------------------------------

    def _watch(self) -> None:
        while self.exit_status is None:
            readable = self._select(self._wait_time())
            if self.sock is not None and self.sock in readable:
                self._read_control()
            if self.out_fd is not None and self.out_fd in readable:
                self._read_output()
            self._poll_exit()
            if self.exit_status is None:
                self._tick()
        self._drain()

    def _select(self, timeout: float) -> list[Any]:
        watched: list[Any] = [f for f in (self.sock, self.out_fd, self.pidfd) if f is not None]
        if not watched:
            time.sleep(timeout)
            return []
        return select.select(watched, [], [], timeout)[0]

    def _wait_time(self) -> float:
        now = time.monotonic()
        candidates = [MAX_WAIT, self.next_heartbeat - now]
        due = self.shipper.seconds_until_due()
        if due is not None:
            candidates.append(due)
        if self.deadline is not None and self._timeout_pending():
            candidates.append(self.deadline - now)
        if self.killing and not self.sigkilled:
            candidates.append(self.kill_deadline - now)
        if self.pidfd is None:
            candidates.append(0.05)
        if self.backlog:
            candidates.append(self.next_backlog_retry - now)
        return max(0.0, min(candidates))

    def _tick(self) -> None:
        now = time.monotonic()
        if self._terminate_requested and not self.killing:
            self.terminated = True
            self._log("WARNING", "The task runner received SIGTERM; terminating the task")
            self._kill()
        if self.deadline is not None and self._timeout_pending() and now >= self.deadline:
            self.timed_out = True
            self._log(
                "ERROR",
                f"Task timed out after {self.execution_timeout:g} s (execution_timeout); "
                "terminating it",
            )
            self._kill()
        if self.killing and not self.sigkilled and now >= self.kill_deadline:
            self._log("WARNING", f"Task did not stop within {KILL_GRACE:g} s; sending SIGKILL")
            self._kill_now()
        if now >= self.next_heartbeat:
            if not self.try_gone:
                self._heartbeat()
            self.next_heartbeat = time.monotonic() + self.heartbeat_interval
        self.shipper.flush_if_due()
        if self.backlog and now >= self.next_backlog_retry:
            self._flush_backlog()

    def _timeout_pending(self) -> bool:
        # Not once a result is in: the task finished its work and is only exiting.
        return self.deadline is not None and not self.killing and self.result is None

    def _heartbeat(self) -> None:
        try:
            # One attempt: the next heartbeat is the retry, and the loop must not stall.
            self.client.heartbeat(self.ti_id, hostname=self.hostname, pid=os.getpid(), attempts=1)
        except ExecutionApiError as exc:
            if exc.status in TRY_GONE_STATUSES:
                self._lose_try(f"heartbeat refused ({exc.status}: {exc.message})")
            elif exc.status == 401:
                # The token expired or was revoked: nothing can be reported any more, so stop
                # now and let the scheduler fail the try from our exit code.
                self._lose_try(f"heartbeat unauthorized ({exc.message})", EXIT_NOT_REPORTED)
            else:
                self._stderr(f"heartbeat failed, will retry: {exc}")

    def _lose_try(self, reason: str, exit_code: int = EXIT_TRY_GONE) -> None:
        """The try is no longer ours (cleared, marked, failed as a zombie): kill the task and
        report nothing. Its log cannot be appended to any more (the API refuses it)."""
        if self.try_gone:
            return
        self.try_gone = True
        self.gone_exit_code = exit_code
        dropped = self.shipper.discard() + sum(len(chunk) for chunk in self.backlog)
        self.backlog.clear()
        self.backlog_bytes = 0
        self._stderr(f"{reason}; killing the task ({dropped} unsent log lines dropped)")
        if self.exit_status is None and not self.killing:
            self._kill()

    # -- killing -----------------------------------------------------------------------------

    def _kill(self) -> None:
        self.killing = True
        self.kill_deadline = time.monotonic() + KILL_GRACE
        self._signal_task(signal.SIGTERM)

    def _kill_now(self) -> None:
        if self.pid is None or self.exit_status is not None:
            return
        self.sigkilled = True
        # Children that left the group (own session, like BashOperator's command) are found
        # while the tree is still intact.
        for child in fencing.descendants(self.pid):
            with contextlib.suppress(OSError):
                os.kill(child, signal.SIGKILL)
        self._signal_task(signal.SIGKILL)

    def _signal_task(self, signum: int) -> None:
        if self.pid is None:
            return
        try:
            os.killpg(self.pid, signum)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, signum)

    def _poll_exit(self) -> None:
        if self.pid is None or self.exit_status is not None:
            return
        pid, status, rusage = os.wait4(self.pid, os.WNOHANG)
        if pid == 0:
            return
        self.exit_status = status
        self.rusage = rusage
        # Whatever the task left running in its group dies with it (Airflow reaps the group),
        # and, as subreaper, everything else it started: detached, new sessions, daemons.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        if self.subreaper:
            fencing.kill_descendants()

    # -- control channel -------------------------------------------------------------------

    def _read_control(self) -> None:
        assert self.sock is not None
        try:
            data = self.sock.recv(1024 * 1024)
        except OSError:
            data = b""
        if not data:
            self._close_control()
            return
        try:
            messages = self.frames.feed(data)
        except comms.ProtocolError as exc:
            self._log("ERROR", f"The task process broke the control protocol: {exc}")
            self._close_control()
            return
        for message in messages:
            if isinstance(message, m.TaskResult):
                self.result = message
            else:
                self._answer(message)

    def _answer(self, message: m.Request) -> None:
        # The task waits for its answer; through an API outage (its return value's XCom push
        # at the end, say) for as long as a final report would, but not past its deadline.
        self.client.patience = self._request_patience()
        try:
            reply = m.Response(id=message.id, ok=True, value=self._perform(message))
        except ExecutionApiError as exc:
            # A try that lost its state answers 403 here; the next heartbeat notices that.
            reply = m.Response(
                id=message.id, ok=False, status=exc.status, detail=exc.detail, message=exc.message
            )
        except (KeyError, TypeError, ValueError) as exc:
            reply = m.Response(
                id=message.id, ok=False, message=f"bad request {message.op!r}: {exc}"
            )
        finally:
            self.client.patience = None
        if self.sock is None:
            return
        try:
            comms.send(self.sock, reply)
        except (OSError, ValueError) as exc:
            self._stderr(f"could not answer the task's {message.op!r} request: {exc}")

    def _request_patience(self) -> float:
        patience = self.report_patience
        if self.deadline is not None:
            patience = min(patience, max(0.0, self.deadline - time.monotonic()))
        return patience

    def _perform(self, message: m.Request) -> Any:
        client = self.client
        if isinstance(message, m.GetXCom):
            return client.get_xcom(
                message.dag_id, message.run_id, message.task_id, message.key, message.map_index
            )
        if isinstance(message, m.SetXCom):
            client.set_xcom(
                message.dag_id,
                message.run_id,
                message.task_id,
                message.key,
                message.value,
                message.map_index,
                mapped_length=message.mapped_length,
            )
            return None
        if isinstance(message, m.GetXComSequence):
            return client.get_xcom_sequence(
                message.dag_id,
                message.run_id,
                message.task_id,
                message.key,
                message.start,
                message.stop,
            )
        if isinstance(message, m.GetVariable):
            value = client.get_variable(message.key)
            self.masker.add_variable(message.key, value)  # before the task can see it
            return value
        if isinstance(message, m.SetVariable):
            self.masker.add_variable(message.key, message.value)  # before any line shows it
            client.put_variable(message.key, message.value, message.description)
            return None
        if isinstance(message, m.DeleteVariable):
            client.delete_variable(message.key)
            return None
        if isinstance(message, m.GetConnection):
            connection = client.get_connection(message.conn_id)
            self.masker.add_connection(connection)  # before the task can see it
            return connection
        if isinstance(message, m.GetAssetByName):
            return client.get_asset_by_name(message.name)
        if isinstance(message, m.GetAssetEvents):
            return client.get_asset_events(message.model_dump(exclude={"kind", "op", "id"}))
        if isinstance(message, m.Mask):
            self.masker.add(message.values)
            return None
        if isinstance(message, m.GetDRCount | m.GetTICount | m.GetTaskStates):
            path = EXTERNAL_STATE_PATHS[message.op]
            return client.external_state(path, message.model_dump(exclude={"kind", "op", "id"}))
        if isinstance(message, m.GetTaskRescheduleStartDate):
            return client.get_reschedule_start_date(self.ti_id, message.try_number)
        if isinstance(message, m.TriggerDagRun):
            client.trigger_dag_run(
                message.dag_id,
                message.run_id,
                logical_date=message.logical_date,
                conf=message.conf,
                reset_dag_run=message.reset_dag_run,
            )
            return None
        if isinstance(message, m.GetDagRunState):
            return client.get_dag_run_state(message.dag_id, message.run_id)
        if isinstance(message, m.GetDag):
            return client.get_dag(message.dag_id)
        raise ValueError(f"unknown operation {message.op!r}")

    def _close_control(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    # -- output ------------------------------------------------------------------------------

    def _read_output(self) -> None:
        assert self.out_fd is not None
        try:
            data = os.read(self.out_fd, READ_SIZE)
        except OSError:
            data = b""
        if not data:
            os.close(self.out_fd)
            self.out_fd = None
            for line in self.splitter.finish():
                self._emit(line)
            return
        for line in self.splitter.feed(data):
            self._emit(line)

    def _emit(self, line: str) -> None:
        if self.try_gone:
            return
        self.shipper.add(self.masker.mask(line))

    def _log(self, level: str, message: str) -> None:
        """A line of the supervisor's own in the task's log, in the task's log format."""
        now = time.time()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + f",{int(now % 1 * 1000):03d}"
        line = sys._getframe(1).f_lineno
        self._emit(f"[{stamp}] {{supervisor.py:{line}}} {level} - {message}")

    def _send_logs(self, lines: list[str]) -> None:
        if self.try_gone:
            return
        self.backlog.append(lines)
        self.backlog_bytes += _size(lines)
        while self.backlog_bytes > MAX_BACKLOG_BYTES and len(self.backlog) > 1:
            dropped = self.backlog.pop(0)
            self.backlog_bytes -= _size(dropped)
            self.lost_lines += len(dropped)
        if len(self.backlog) == 1 or time.monotonic() >= self.next_backlog_retry:
            self._flush_backlog()

    def _flush_backlog(self, patience: float | None = None) -> bool:
        """Send the kept log chunks in order. While the API is unreachable they stay (retried
        with a growing pause during the run; for up to `patience` seconds at the end)."""
        while self.backlog and not self.try_gone:
            chunk = self.backlog[0]
            if self.lost_lines:
                chunk = [
                    f"[{self.lost_lines} log lines were lost while the Execution API was "
                    "unreachable]",
                    *chunk,
                ]
            try:
                self.client.send_logs(
                    self.ti_id, chunk, patience=patience, attempts=None if patience else 2
                )
            except ExecutionApiUnreachable as exc:
                if patience is not None:
                    self._stderr(f"could not deliver {len(self.backlog)} log chunks: {exc}")
                    return False
                if not self.backlog_delay:
                    self._stderr(f"the Execution API is unreachable; keeping log lines: {exc}")
                self.backlog_delay = min(BACKLOG_RETRY_MAX, max(0.25, self.backlog_delay * 2))
                self.next_backlog_retry = time.monotonic() + self.backlog_delay
                return False
            except ExecutionApiError as exc:
                if exc.status in TRY_GONE_STATUSES:
                    self._lose_try(f"log upload refused ({exc.status}: {exc.message})")
                elif exc.status == 401:
                    self._lose_try(f"log upload unauthorized ({exc.message})", EXIT_NOT_REPORTED)
                else:
                    self._stderr(f"dropped {len(chunk)} log lines: {exc}")
                    self._drop_first_chunk()
                    continue
                return False
            self.lost_lines = 0
            self._drop_first_chunk()
        self.backlog_delay = 0.0
        return not self.backlog

    def _drop_first_chunk(self) -> None:
        self.backlog_bytes -= _size(self.backlog.pop(0))

    def _stderr(self, message: str) -> None:
        print(
            f"[task runner {self.workload.label()}] {message}",
            file=sys.stderr,
            flush=True,
        )

    # -- the end -----------------------------------------------------------------------------

    def _drain(self) -> None:
        """Read what the task left in the pipes (its result, its last lines) until EOF, or
        until DRAIN_TIMEOUT when something it started outside its group holds them open."""
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        give_up = time.monotonic() + DRAIN_TIMEOUT
        while self.sock is not None or self.out_fd is not None:
            left = give_up - time.monotonic()
            if left <= 0:
                break
            readable = self._select(min(left, MAX_WAIT))
            if self.sock is not None and self.sock in readable:
                self._read_control()
            if self.out_fd is not None and self.out_fd in readable:
                self._read_output()
            self.shipper.flush_if_due()
        if self.out_fd is not None:
            self._stderr(
                f"the task's output was still open {DRAIN_TIMEOUT:g} s after it exited "
                "(held by a process it started); not waiting any longer"
            )
            for line in self.splitter.finish():
                self._emit(line)

    def _report(self) -> int:
        if self.try_gone:
            return self.gone_exit_code
        result = self.result
        body: dict[str, Any] = {
            "state": "failed",
            "end_date": _now_iso(),
            "fail_without_retry": bool(result and result.fail_without_retry),
            "retry_delay_seconds": None,
            "cpu_time": None,
            "peak_memory": None,
            "rendered_fields": self.masker.redact(result.rendered_fields if result else None),
            "branch_task_ids": None,
            "skip_downstream": None,
            "rendered_map_index": result.rendered_map_index if result else None,
        }
        if self.rusage is not None:
            body["cpu_time"] = round(self.rusage.ru_utime + self.rusage.ru_stime, 6)
            scale = 1 if sys.platform == "darwin" else 1024  # Linux reports KiB
            body["peak_memory"] = int(self.rusage.ru_maxrss) * scale
        if self.fenced_out:
            self._log(
                "ERROR",
                f"An earlier copy of this task instance is still running on this host after "
                f"{FENCE_WAIT:g} s; not starting a second one",
            )
        elif self.timed_out or self.terminated:
            body["fail_without_retry"] = False
        elif result is None:
            how = describe_exit(self.exit_status) if self.exit_status is not None else "vanished"
            self._log("ERROR", f"Task process {self.pid} {how} without reporting a result")
        elif result.state not in FINAL_STATES:
            self._log("ERROR", f"Task process reported an unknown state {result.state!r}")
        else:
            body["state"] = result.state
            if result.state == "failed":
                body["retry_delay_seconds"] = result.retry_delay_seconds
            if result.state == "success":
                body["branch_task_ids"] = result.branch_task_ids
                body["skip_downstream"] = result.skip_downstream
                if result.downstream_tasks_skipped is not None:
                    # Sent only when asked, so an API server older than this field (which
                    # ignores unknown fields) sees the same body as before.
                    body["downstream_tasks_skipped"] = result.downstream_tasks_skipped
                body["outlet_events"] = result.outlet_events
            if result.state == "deferred" and result.deferral is None:
                self._log("ERROR", "Task process reported state deferred without a trigger")
                body["state"] = "failed"
            elif result.deferral is not None and result.state == "deferred":
                body.update(_deferral_fields(result.deferral))
            if result.state == "up_for_reschedule":
                body.update(_reschedule_fields(result))
        w = self.workload
        self._log(
            "INFO",
            f"Marking task as {self._expected_state(body).upper()}. dag_id={w.dag_id}, "
            f"task_id={w.task_id}, run_id={w.run_id}, try_number={w.try_number}",
        )
        # The last lines travel with the state report (one call instead of two); the shipper
        # never holds more than one chunk, so the body stays within the chunk limits.
        body["logs"] = self.shipper.take() or None
        # Kept until accepted: the lines the API could not take during the run go first (in
        # order), then the state with the last lines, each retried for report_patience.
        if self.backlog and not self._flush_backlog(patience=self.report_patience):
            if self.try_gone:
                return self.gone_exit_code
            self._stderr(f"could not report the final state {body['state']}: logs undelivered")
            return EXIT_NOT_REPORTED
        try:
            self.client.finish(self.ti_id, body, patience=self.report_patience)
        except ExecutionApiError as exc:
            if exc.status in TRY_GONE_STATUSES:
                self._stderr(f"the try ended meanwhile; state not reported ({exc.message})")
                return EXIT_TRY_GONE
            self._stderr(f"could not report the final state {body['state']}: {exc}")
            return EXIT_NOT_REPORTED
        return EXIT_OK

    def _expected_state(self, body: dict[str, Any]) -> str:
        """What the server will make of the reported state (failed may become up_for_retry,
        by the rule in docs/engine.md), for the log line Airflow users look for."""
        ti = self.claim.get("task_instance") or {}
        try_number = int(ti.get("try_number", self.workload.try_number))
        if (
            body["state"] == "failed"
            and not body["fail_without_retry"]
            and try_number <= int(ti.get("max_tries", 0))
        ):
            return "up_for_retry"
        return body["state"]

    def _close(self) -> None:
        self._close_control()
        if self.out_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.out_fd)
            self.out_fd = None
        if self.pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self.pidfd)
            self.pidfd = None
        if self.pid is not None and self.exit_status is None:
            # Leaving (an internal error): never leave the task behind, and reap it.
            self._kill_now()
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
        if self.subreaper:
            fencing.kill_descendants()
        # Last: the name is free only once nothing of this try is left running.
        self.fence.release()


def _deferral_fields(deferral: m.Deferral) -> dict[str, Any]:
    """The Execution API's deferred-state fields (Airflow 3's TIDeferredStatePayload)."""
    return {
        "fail_without_retry": False,
        "classpath": deferral.classpath,
        "trigger_kwargs": deferral.trigger_kwargs,
        "next_method": deferral.next_method,
        "next_kwargs": deferral.next_kwargs,
        "trigger_timeout": deferral.trigger_timeout,
    }


def _reschedule_fields(result: m.TaskResult) -> dict[str, Any]:
    """The state report of a reschedule-mode sensor giving back its slot (Airflow 3's
    TIRescheduleStatePayload): no retry or branch fields apply."""
    return {
        "reschedule_date": result.reschedule_date,
        "fail_without_retry": False,
        "branch_task_ids": None,
        "skip_downstream": None,
    }


def _size(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)
