"""The deferred benchmark: N tasks deferred on TimeDeltaTrigger at once, through the real API
server, scheduler (local executor) and triggerer processes on a throw-away embedded setup.

Each task defers for `delay` seconds from its own start (long enough that all N are deferred
together: the peak count is reported), the triggerer runs the N triggers, and each fires at its
moment. Two modes (`mode` in the figures):

* `resume_in_worker` (the default): the task resumes in a new runner at its method. The
  fire→resume delay runs from the trigger's moment (its event's payload) to the resumed try's
  claim: the triggerer's lateness, the fire, the scheduler's wake-up, queueing for a slot and
  the new runner together;
* `end_from_trigger` (`--end-from-trigger`): the trigger yields a TaskSuccessEvent and the
  triggerer ends the task itself; the same keys then hold fire→end, from the trigger's moment
  (which the task pushes as an XCom before deferring) to the try's end date. The per-hop keys,
  which describe a resumption, are null.

Figures: those delays' p50/p95/max; the triggerer's peak RSS (its process and trigger runner
child) and CPU seconds; the whole run's wall time.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from scheduler.benchmarks.cpu_phases import CpuPhases
from scheduler.benchmarks.engine import (
    PeakRss,
    free_port,
    run_benchmark_child,
    start_api_server,
    tree_cpu,
    wait_http,
)

DAG_ID = "bench_deferred"
# One mapped task of N instances: every instance defers, and each runner imports a small file
# (N separate tasks would make every runner import N operators, measuring the DAG file, not
# the triggerer).
DAG_FILE = """\
from datetime import datetime, timedelta
from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger
from airflow.sdk import DAG, BaseOperator


class Sleeps(BaseOperator):
    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = n

    def execute(self, context):
        trigger = TimeDeltaTrigger(timedelta(seconds={delay}), end_from_trigger={end})
        if {end}:  # the fire→end delay is measured from the trigger's moment
            context["ti"].xcom_push("moment", trigger.moment.isoformat())
        self.defer(trigger=trigger, method_name="done")

    def done(self, context, event=None):
        return None


with DAG("{dag_id}", schedule=None, start_date=datetime(2024, 1, 1), max_active_tasks={n}):
    Sleeps.partial(task_id="sleeps").expand(n=list(range({n})))
"""


def run(
    tasks: int = 1000,
    delay: float = 180.0,
    kill_triggerer: bool = False,
    end_from_trigger: bool = False,
) -> dict:
    """Run the benchmark in a child `manage.py benchmark deferred --inside`, on a fresh
    ORCH_HOME and SQLite database, so it never touches the caller's."""
    return run_benchmark_child(
        [
            "deferred", "--inside", "--deferred-tasks", str(tasks),
            "--defer-seconds", str(delay), *(["--kill-triggerer"] if kill_triggerer else []),
            *(["--end-from-trigger"] if end_from_trigger else []),
        ],
        "the deferred benchmark",
    )  # fmt: skip


def run_inside(
    tasks: int, delay: float, kill_triggerer: bool = False, end_from_trigger: bool = False
) -> dict[str, Any]:
    from django.core.management import call_command

    from dagruns.models import DagModel

    dags = settings.ORCH.dags_folder
    dags.mkdir(parents=True, exist_ok=True)
    (dags / f"{DAG_ID}.py").write_text(
        DAG_FILE.format(dag_id=DAG_ID, n=tasks, delay=delay, end=end_from_trigger)
    )
    call_command("dag_processor", "--once", stdout=io.StringIO())
    DagModel.objects.update(is_paused=False)
    port = free_port()
    env = {
        **os.environ,
        "ORCH_API_URL": f"http://127.0.0.1:{port}",
        "ORCH_MAX_MAP_LENGTH": str(max(tasks, 1024)),
    }
    if kill_triggerer:
        # A dead triggerer's triggers are taken over after this many seconds of silence.
        env["ORCH_TRIGGERER_HEALTH_CHECK_THRESHOLD"] = str(KILL_THRESHOLD)
    manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
    api = start_api_server(port, env)
    scheduler = _start([*manage, "scheduler"], env)
    triggerer = _start([*manage, "triggerer"], env)
    load_before = round(os.getloadavg()[0], 2)
    clock_before = _wall_minus_monotonic()
    killer: _Killer | None = None
    try:
        wait_http(f"http://127.0.0.1:{port}/admin/login/")
        time.sleep(1.0)  # let the scheduler start its forkserver
        measured = {"api_server": api, "scheduler": scheduler, "triggerer": triggerer}
        killer = (
            _Killer(triggerer, [*manage, "triggerer"], env, tasks, end_from_trigger)
            if kill_triggerer
            else None
        )
        phases = CpuPhases(measured)
        # Four samples a second (PSS each second): the scheduler's tree holds up to
        # ORCH_PARALLELISM runners and their task processes, and sampling it 20 times a second
        # took a fifth of the CPU the run itself needed (the phases' "benchmark" figure).
        sampling = PeakRss(measured, interval=0.25, pss_every=4)
        with sampling as rss, _PeakDeferred(tasks, phases) as peak:
            cpu_before = tree_cpu(triggerer.pid)
            phases.mark("start")
            figures = _measure(
                tasks,
                timeout=max(600.0, 10 * delay + 2 * tasks),
                on_poll=killer.poll if killer else None,
                end_from_trigger=end_from_trigger,
                on_end=lambda: phases.mark("end"),
            )
            figures["triggerer_cpu_s"] = round(tree_cpu(triggerer.pid) - cpu_before, 2)
        if killer is None:  # (a second triggerer would be outside the measured trees)
            # Where the CPU went while the tasks ran and deferred, and while they resumed (from
            # the first trigger's firing to the run's end), per task.
            # Both are null when the first trigger fired before the last task deferred (the
            # peak below under `tasks`: the machine ran the tasks slower than --defer-seconds);
            # the whole run's figures (two tries per task) are always there.
            figures["defer_phase"] = phases.between("start", "all_deferred", tasks)
            figures["resume_phase"] = phases.between("first_fire", "end", tasks)
            figures["whole_run"] = phases.between("start", "end", tasks)
        else:
            figures["kill"] = killer.report()
        figures["peak_deferred_at_once"] = peak.value
        figures["peak_rss_mb"] = rss.megabytes()
        figures["peak_pss_mb"] = rss.pss_megabytes()
    finally:
        procs = [api, scheduler, triggerer]
        if killer is not None and killer.second is not None:
            procs.append(killer.second)
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 15)
        for proc in procs:
            proc.wait(30)
    figures["tasks"] = tasks
    figures["defer_seconds"] = delay
    figures["load_average_1m"] = {"before": load_before, "after": round(os.getloadavg()[0], 2)}
    # The delays are wall-clock differences and the triggers wait for wall-clock moments: a
    # host clock set forward or back during the run (time synchronisation) shows here, and
    # the delays of that run are off by up to as much.
    figures["wall_clock_set_s"] = round(_wall_minus_monotonic() - clock_before, 3)
    return figures


def _wall_minus_monotonic() -> float:
    return time.time() - time.monotonic()


def _start(argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(argv, env=env, start_new_session=True, stdout=subprocess.DEVNULL)


class _PeakDeferred:
    """The most task instances deferred at the same time, sampled in a thread; it marks
    `phases` when all `tasks` are deferred ("all_deferred") and when the first of them is no
    longer ("first_fire")."""

    def __init__(self, tasks: int, phases: CpuPhases) -> None:
        self.value = 0
        self.tasks, self.phases = tasks, phases
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from django.db import connection

        from dagruns.models import TaskInstance

        try:
            while not self._stop.wait(0.25):
                count = TaskInstance.objects.filter(state="deferred").count()
                self.value = max(self.value, count)
                if count >= self.tasks:
                    self.phases.mark("all_deferred")
                elif self.value >= self.tasks:
                    self.phases.mark("first_fire")
        finally:
            connection.close()

    def __enter__(self) -> _PeakDeferred:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


KILL_THRESHOLD = 5.0


class _Killer:
    """--kill-triggerer: once every instance is deferred and its trigger held by the first
    triggerer, SIGKILL it (the process alone: its trigger runner child must notice by itself)
    and start a second one; measure how long until the second holds every trigger, and check
    afterwards that every instance resumed (or ended from the trigger) exactly once."""

    def __init__(
        self,
        first: subprocess.Popen,
        argv: list[str],
        env: dict[str, str],
        tasks: int,
        end_from_trigger: bool = False,
    ) -> None:
        self.first, self.argv, self.env, self.tasks = first, argv, env, tasks
        # A resumed try starts running twice (before and after its deferral); one ended by
        # its trigger once.
        self.runs_per_task = 1 if end_from_trigger else 2
        self.second: subprocess.Popen | None = None
        self.killed_at: float | None = None
        self.first_job: int | None = None
        self.takeover_s: float | None = None

    def poll(self) -> None:
        from dagruns.models import Job, TaskInstance, Trigger

        if self.killed_at is None:
            held = Trigger.objects.filter(triggerer_id__isnull=False).count()
            deferred = TaskInstance.objects.filter(state="deferred").count()
            if held < self.tasks or deferred < self.tasks:
                return
            self.first_job = (
                Job.objects.filter(job_type="triggerer", state="running")
                .values_list("pk", flat=True)
                .first()
            )
            os.kill(self.first.pid, signal.SIGKILL)
            self.killed_at = time.monotonic()
            self.second = _start(self.argv, self.env)
        elif self.takeover_s is None:
            taken = Trigger.objects.exclude(triggerer_id=self.first_job).filter(
                triggerer_id__isnull=False
            )
            if taken.count() >= Trigger.objects.count():
                self.takeover_s = round(time.monotonic() - self.killed_at, 2)

    def report(self) -> dict[str, Any]:
        from django.db.models import Count, Q

        from dagruns.models import AuditEvent

        starts = (
            AuditEvent.objects.filter(task_id="sleeps")
            .values("map_index")
            .annotate(
                running=Count("pk", filter=Q(event="running")),
                deferred=Count("pk", filter=Q(event="deferred")),
                success=Count("pk", filter=Q(event="success")),
            )
        )
        once = sum(
            1
            for row in starts
            if (row["running"], row["deferred"], row["success"]) == (self.runs_per_task, 1, 1)
        )
        return {
            "killed": self.killed_at is not None,
            "health_check_threshold_s": KILL_THRESHOLD,
            "takeover_s": self.takeover_s,
            "resumed_exactly_once": once,
            "resumed_otherwise": len(starts) - once,
        }


def _measure(
    tasks: int,
    timeout: float,
    on_poll: Callable[[], None] | None = None,
    end_from_trigger: bool = False,
    on_end: Callable[[], None] | None = None,
) -> dict[str, Any]:
    from dagruns.actions.audit import Actor
    from dagruns.actions.runs import do_trigger_dag
    from dagruns.models import DagRun

    run = do_trigger_dag(DAG_ID, Actor(name="benchmark"))
    deadline = time.monotonic() + timeout
    while DagRun.objects.values_list("state", flat=True).get(pk=run.pk) not in (
        "success",
        "failed",
    ):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{DAG_ID} did not finish within {timeout:g} s")
        if on_poll is not None:
            on_poll()
        time.sleep(0.1)
    if on_end is not None:
        on_end()
    run.refresh_from_db()
    states, hops = _ended_delays(run) if end_from_trigger else _resume_delays(run)
    total = hops["total"]
    return {
        "mode": "end_from_trigger" if end_from_trigger else "resume_in_worker",
        "states": states,
        "resumed": len(total),
        "fire_to_resume_p50_ms": _percentile_ms(total, 0.5),
        "fire_to_resume_p95_ms": _percentile_ms(total, 0.95),
        "fire_to_resume_max_ms": _percentile_ms(total, 1.0),
        "fire_to_resume_mean_ms": round(1000 * statistics.mean(total), 1) if total else None,
        # Where the time goes (p50/p95 of each part): the triggerer's firing, the scheduler's
        # queueing (with the wait for a free slot), the runner's start.
        "moment_to_scheduled_ms": _p50_p95(hops["fire"]),
        "scheduled_to_queued_ms": _p50_p95(hops["queue"]),
        "queued_to_started_ms": _p50_p95(hops["start"]),
        # After the claim (Airflow's start_date, the "resumed" above): the task process forks,
        # imports the DAG file and enters `method_name` (its "Resuming" log line).
        "started_to_method_ms": _p50_p95(hops["method"]),
        "fire_to_method_ms": {
            **_p50_p95(hops["to_method"]),
            "max": _percentile_ms(hops["to_method"], 1.0),
        },
        "wall_s": _wall_seconds(run),
    }


_HOPS = ("fire", "queue", "start", "total", "method", "to_method")


def _resume_delays(run: Any) -> tuple[dict[str, int], dict[str, list[float]]]:
    """Per resumed instance, from the trigger's moment: scheduled (the triggerer fired it),
    queued (the scheduler), started (the new runner's claim)."""
    from dagruns.models import TaskInstance
    from dagruns.sdk.triggers.serde import decode

    hops: dict[str, list[float]] = {key: [] for key in _HOPS}
    states: dict[str, int] = {}
    for ti in TaskInstance.objects.filter(dag_run=run):
        states[str(ti.state)] = states.get(str(ti.state), 0) + 1
        event = (ti.next_kwargs or {}).get("event")
        scheduled, queued, started = ti.scheduled_dttm, ti.queued_dttm, ti.start_date
        if event is None or scheduled is None or queued is None or started is None:
            continue
        moment = decode(event)
        hops["fire"].append((scheduled - moment).total_seconds())
        hops["queue"].append((queued - scheduled).total_seconds())
        hops["start"].append((started - queued).total_seconds())
        hops["total"].append((started - moment).total_seconds())
        entered = _method_entered(ti)
        if entered is not None:
            hops["method"].append((entered - started).total_seconds())
            hops["to_method"].append((entered - moment).total_seconds())
    return states, hops


# The task process's line as it enters the method a deferral named (scheduler/runner/
# task_process.py): "[2026-01-01 00:00:00,123] {task_process.py:446} INFO - Resuming …".
_RESUMING = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\] \{[^}]*\} INFO - Resuming ")


def _method_entered(ti: Any) -> datetime | None:
    """When the resumed try's task process entered `method_name`: the UTC time stamp of its
    "Resuming" line in the try's log (millisecond resolution), None when there is none."""
    from dagruns.domain.logs import ti_log_path

    try:
        text = ti_log_path(ti).read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        found = _RESUMING.match(line)
        if found:
            stamp = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f")
            return stamp.replace(tzinfo=UTC)
    return None


def _ended_delays(run: Any) -> tuple[dict[str, int], dict[str, list[float]]]:
    """Per instance the triggerer ended, from the trigger's moment (the task's "moment" XCom)
    to the try's end date; no hops: nothing was scheduled, queued or started again."""
    from dagruns.models import TaskInstance, XCom

    moments = {
        x.map_index: datetime.fromisoformat(x.value)
        for x in XCom.objects.filter(dag_run=run, key="moment")
    }
    hops: dict[str, list[float]] = {key: [] for key in _HOPS}
    states: dict[str, int] = {}
    for ti in TaskInstance.objects.filter(dag_run=run):
        states[str(ti.state)] = states.get(str(ti.state), 0) + 1
        moment = moments.get(ti.map_index)
        if moment is not None and ti.end_date is not None:
            hops["total"].append((ti.end_date - moment).total_seconds())
    return states, hops


def _wall_seconds(run: Any) -> float | None:
    """From the run's trigger to its end."""
    if run.end_date is None or run.queued_at is None:
        return None
    return round((run.end_date - run.queued_at).total_seconds(), 2)


def _percentile_ms(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))], 1)


def _p50_p95(values: list[float]) -> dict[str, float | None]:
    return {"p50": _percentile_ms(values, 0.5), "p95": _percentile_ms(values, 0.95)}
