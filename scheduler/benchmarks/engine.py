"""The engine benchmark: real API server and scheduler processes on the embedded default
(SQLite, local executor), DAG runs triggered through the same action the CLI uses, latencies
read from the task instances' own timestamps. With `--executor celery --workers N` the same
cases run a second time, in the same command, with ORCH_EXECUTOR=celery: a broker (see
broker.py) and N real `manage.py celery worker` processes (without database settings) run the
tries; both sets of figures are reported side by side. With `--executor kubernetes` the second
run is ORCH_EXECUTOR=kubernetes, a pod per try, on the cluster ORCH_KUBERNETES_CONFIG_FILE names
or else on a stand-in the benchmark starts (see cluster.py), reported the same way.

Figures per case (median over repetitions): trigger-to-first-start latency, median and p95
inter-task latency (a task's end to its downstream's start, over every edge), total wall time
(trigger to the last task's end), tasks per second; and the peak RSS of each process tree.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
from django.conf import settings

from scheduler.benchmarks.shapes import DEFAULT_CASES, dag_file


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PeakRss:
    """Samples the RSS of named process trees in a thread; keeps each one's peak."""

    def __init__(
        self, processes: dict[str, subprocess.Popen], interval: float = 0.05, pss_every: int = 5
    ) -> None:
        """Sample every `interval` seconds, PSS every `pss_every`-th sample. The sampling has
        its cost (each sample walks /proc for every tree; PSS reads each process's smaps): a
        benchmark whose trees hold dozens of processes on a busy machine samples less often,
        so the measurement does not take the CPU the measured work needs."""
        self.processes = processes
        self.interval, self.pss_every = interval, pss_every
        self.peaks = dict.fromkeys(processes, 0)
        # RSS counts a page shared by many forked runners once per process; PSS splits it.
        self.pss_peaks: dict[str, float] = dict.fromkeys(processes, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        ticks = 0
        while not self._stop.is_set():
            for name, proc in self.processes.items():
                self.peaks[name] = max(self.peaks[name], tree_rss(proc.pid))
                if ticks % self.pss_every == 0:  # PSS reads smaps: costlier, sampled less often
                    pss = tree_sum(proc.pid, lambda p: p.memory_full_info().pss)
                    self.pss_peaks[name] = max(self.pss_peaks[name], pss)
            ticks += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def megabytes(self) -> dict[str, float]:
        return {name: round(peak / 2**20, 1) for name, peak in self.peaks.items()}

    def pss_megabytes(self) -> dict[str, float]:
        return {name: round(peak / 2**20, 1) for name, peak in self.pss_peaks.items()}


def tree_sum(pid: int, measure) -> float:
    """`measure(process)` summed over a process and its living descendants (processes that
    vanish while being read count as zero)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += measure(proc)
    return total


def tree_rss(pid: int) -> int:
    return int(tree_sum(pid, lambda p: p.memory_info().rss))


def _cpu_with_reaped_children(proc) -> float:
    t = proc.cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def tree_cpu(pid: int) -> float:
    """CPU seconds used by a process and all its descendants, living or reaped."""
    return float(tree_sum(pid, _cpu_with_reaped_children))


def own_cpu(pid: int) -> float:
    try:
        t = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return t.user + t.system


def start_api_server(
    port: int, env: dict[str, str], cwd=None, host: str = "127.0.0.1"
) -> subprocess.Popen:
    """The API server as production runs it (uvicorn, ASGI), on `host`:`port`, in its own
    process group so the caller can stop it with everything it started."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "orchestrator_site.asgi:application",
            "--host",
            host,
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=cwd,
        start_new_session=True,
    )


def wait_http(url: str, timeout: float = 60.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            urllib.request.urlopen(url, timeout=1)
            return time.monotonic() - started
        except urllib.error.HTTPError:
            return time.monotonic() - started  # it answered
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout:g} s")


def run_inside(
    cases, repeat: int, workers: int = 0, kubernetes: bool = False, api_host: str = "127.0.0.1"
) -> dict:
    """Runs inside a Django process configured for the throw-away ORCH_HOME; with `workers`,
    the executor is Celery (ORCH_EXECUTOR, ORCH_CELERY_BROKER_URL set by `run`) and that many
    `manage.py celery worker` processes run the tries; with `kubernetes`, the executor is
    Kubernetes (set by `run`) on the configured cluster or a stand-in started here (its
    process tree, pods included, is measured like the other processes). The API server listens
    on `api_host`, where the tries reach it."""
    from django.core.management import call_command

    from dagruns.models import DagModel

    home = settings.ORCH.home
    dags = settings.ORCH.dags_folder
    dags.mkdir(parents=True, exist_ok=True)
    ids = []
    for shape, n, kind in cases:
        dag_id, text = dag_file(shape, n, kind)
        (dags / f"{dag_id}.py").write_text(text)
        ids.append((dag_id, shape, n, kind))
    call_command("dag_processor", "--once", stdout=io.StringIO())
    DagModel.objects.update(is_paused=False)
    port = free_port()
    env = {**os.environ, "ORCH_API_URL": f"http://{api_host}:{port}"}
    manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
    if not kubernetes:
        results = _measure_cases(ids, repeat, workers, env, manage, port, api_host, {})
    else:
        from scheduler.benchmarks import cluster

        with cluster.cluster(settings.ORCH.kubernetes_config_file, home / "kube", env) as chosen:
            env.update(chosen.env)
            standin = {"kube_standin": chosen.process} if chosen.process is not None else {}
            results = {
                "cluster": chosen.source,
                **_measure_cases(ids, repeat, workers, env, manage, port, api_host, standin),
            }
    results["home"] = str(home)
    return results


def _measure_cases(
    ids, repeat: int, workers: int, env, manage, port: int, api_host: str, extra_measured
) -> dict[str, Any]:
    """Start the API server and the scheduler (and Celery workers), run every case `repeat`
    times, stop them; the figures, with the peak memory of every process tree in
    `extra_measured` too."""
    api = start_api_server(port, env, host=api_host)
    scheduler = subprocess.Popen(
        [*manage, "scheduler"], env=env, start_new_session=True, stdout=subprocess.DEVNULL
    )
    celery_workers: list[subprocess.Popen] = []
    results: dict[str, Any] = {}
    load_before = round(os.getloadavg()[0], 2)
    try:
        wait_http(f"http://{api_host}:{port}/admin/login/")
        measured = {"api_server": api, "scheduler": scheduler, **extra_measured}
        if workers:
            from scheduler.benchmarks import broker

            concurrency = worker_concurrency(settings.ORCH.parallelism, workers)
            celery_workers = broker.start_workers(manage, env, workers, concurrency)
            broker.wait_workers_ready(env["ORCH_CELERY_BROKER_URL"], celery_workers)
            measured.update({f"celery_worker_{n}": w for n, w in enumerate(celery_workers, 1)})
            results["worker_concurrency"] = concurrency
        time.sleep(1.0)  # let the scheduler start its forkserver
        with PeakRss(measured) as rss:
            for dag_id, shape, n, kind in ids:
                before = {name: tree_cpu(p.pid) for name, p in rss.processes.items()}
                before["scheduler_process_only"] = own_cpu(scheduler.pid)
                runs = [measure_run(dag_id) for _ in range(repeat)]
                summary = summarize(runs)
                summary["cpu_ms_per_task"] = {
                    name: round(
                        1000 * (tree_cpu(p.pid) - before[name]) / (repeat * runs[0]["tasks"]), 1
                    )
                    for name, p in rss.processes.items()
                }
                summary["cpu_ms_per_task"]["scheduler_process_only"] = round(
                    1000
                    * (own_cpu(scheduler.pid) - before["scheduler_process_only"])
                    / (repeat * runs[0]["tasks"]),
                    1,
                )
                results[f"{kind}-{shape}-{n}"] = summary
        results["peak_rss_mb"] = rss.megabytes()
        results["peak_pss_mb"] = rss.pss_megabytes()
    finally:
        if celery_workers:
            from scheduler.benchmarks import broker

            broker.stop_all(celery_workers)
        for proc in (api, scheduler):
            os.killpg(proc.pid, 15)
        for proc in (api, scheduler):
            proc.wait(15)
    # Figures on a shared machine mean little without its load: said next to them.
    results["load_average_1m"] = {"before": load_before, "after": round(os.getloadavg()[0], 2)}
    return results


def worker_concurrency(parallelism: int, workers: int) -> int:
    """Each worker's share of ORCH_PARALLELISM (rounded up), so the Celery figures run as many
    tries at once as the local executor's: 32 over 2 workers is Airflow's default 16 each."""
    return max(1, -(-parallelism // workers))


def measure_run(dag_id: str, timeout: float = 300.0) -> dict:
    from dagruns.actions.audit import Actor
    from dagruns.actions.runs import do_trigger_dag
    from dagruns.domain.dag_graph import graph_for_version
    from dagruns.models import DagRun, TaskInstance

    run = do_trigger_dag(dag_id, Actor(name="benchmark"))
    deadline = time.monotonic() + timeout
    while DagRun.objects.values_list("state", flat=True).get(pk=run.pk) not in (
        "success",
        "failed",
    ):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{dag_id} did not finish within {timeout:g} s")
        time.sleep(0.02)
    run.refresh_from_db()
    # Every task instance (a mapped task's instances each count as a task).
    tis = list(TaskInstance.objects.filter(dag_run=run))
    graph = graph_for_version(run.dag_version_id)
    task_end: dict[str, datetime] = {}
    for ti in tis:
        end = _stamped(ti.end_date)
        task_end[ti.task_id] = max(end, task_end.get(ti.task_id, end))
    queued_at = _stamped(run.queued_at)
    # Each instance starts when its task's *last* upstream ended: measure that hop only. In
    # two parts: the upstream's end to the start of the scheduler tick that queued the
    # instance (its queued time: the wake-up), and from there to its claim (the tick's work,
    # the executor's hand-over, the runner's fork and its claim).
    hops = [
        (
            max(task_end[up] for up in graph.tasks[ti.task_id].upstream),
            _stamped(ti.queued_dttm),
            _stamped(ti.start_date),
        )
        for ti in tis
        if graph.tasks[ti.task_id].upstream
    ]
    gaps = [(start - end).total_seconds() for end, _queued, start in hops]
    to_queued = [(queued - end).total_seconds() for end, queued, _start in hops]
    queued_to_start = [(start - queued).total_seconds() for _end, queued, start in hops]
    first_start = min(_stamped(ti.start_date) for ti in tis)
    last_end = max(task_end.values())
    return {
        "state": run.state,
        "trigger_to_first_start_s": (first_start - queued_at).total_seconds(),
        "inter_task_gaps_s": gaps,
        "end_to_queued_s": to_queued,
        "queued_to_start_s": queued_to_start,
        "wall_s": (last_end - queued_at).total_seconds(),
        "tasks": len(tis),
        "task_cpu_ms": [1000 * ti.cpu_time for ti in tis if ti.cpu_time is not None],
    }


def _stamped(moment: datetime | None) -> datetime:
    """A finished run's times are all set; a missing one is a broken benchmark, said so."""
    if moment is None:
        raise RuntimeError("a finished run or task has no start, end or queued time")
    return moment


def summarize(runs: list[dict]) -> dict:
    gaps = sorted(g for r in runs for g in r["inter_task_gaps_s"])

    def pct(values, p):
        return values[min(len(values) - 1, int(round(p * (len(values) - 1))))] if values else None

    wall = statistics.median(r["wall_s"] for r in runs)
    return {
        "runs": len(runs),
        "states": sorted({r["state"] for r in runs}),
        "trigger_to_first_start_ms": round(
            1000 * statistics.median(r["trigger_to_first_start_s"] for r in runs), 1
        ),
        "inter_task_latency_median_ms": round(1000 * pct(gaps, 0.5), 1) if gaps else None,
        "inter_task_latency_p95_ms": round(1000 * pct(gaps, 0.95), 1) if gaps else None,
        # The median hop's two parts (see measure_run); in a fan-out, queued_to_start also
        # holds the wait for a free slot.
        "hop_end_to_queued_median_ms": median_ms(r["end_to_queued_s"] for r in runs),
        "hop_queued_to_start_median_ms": median_ms(r["queued_to_start_s"] for r in runs),
        "wall_s": round(wall, 3),
        "tasks_per_second": round(runs[0]["tasks"] / wall, 1),
        # CPU of the task process itself (re-importing the DAG file, running the operator), as
        # each try reports it.
        "task_process_cpu_ms_median": round(
            statistics.median([c for r in runs for c in r["task_cpu_ms"]] or [0]), 1
        ),
    }


def median_ms(per_run) -> float | None:
    values = [v for run_values in per_run for v in run_values]
    return round(1000 * statistics.median(values), 1) if values else None


def run(
    cases=None,
    repeat: int = 5,
    executor: str = "local",
    workers: int = 2,
    api_host: str = "127.0.0.1",
) -> dict:
    """The local executor's figures; with `executor="celery"`, the same cases measured again
    through a broker and `workers` real Celery workers in the same command, reported side by
    side: {"local": …, "celery": …, "workers": N, "broker": …, "comparison": …}; with
    `executor="kubernetes"`, again with a pod per try: {"local": …, "kubernetes": …,
    "cluster": …, "comparison": …} (the API server on `api_host`, where pods reach it)."""
    import tempfile

    cases = cases or DEFAULT_CASES
    if executor == "kubernetes":
        from scheduler.benchmarks.cluster import check_api_host

        check_api_host(settings.ORCH.kubernetes_config_file, api_host)
    local = _run_child(cases, repeat, {}, [])
    if executor == "local":
        return local
    if executor == "kubernetes":
        return run_kubernetes(cases, repeat, local, api_host)
    from scheduler.benchmarks import broker

    with (
        tempfile.TemporaryDirectory(prefix="orch-engine-broker-") as workdir,
        broker.broker(Path(workdir)) as chosen,
    ):
        celery = _run_child(
            cases,
            repeat,
            {"ORCH_EXECUTOR": "celery", "ORCH_CELERY_BROKER_URL": chosen["url"]},
            ["--executor", "celery", "--workers", str(workers)],
        )
    return {
        "workers": workers,
        "broker": chosen["source"],
        "local": local,
        "celery": celery,
        "comparison": compare(local, celery, "celery"),
        # Issue 11's targets on this project's 2-core machine, to read the comparison against
        # (figures taken under load from other processes say so in load_average_1m).
        "targets": {"per_hop_median_ms": 40, "fanout_100_celery_wall_over_local": 1.5},
    }


def run_kubernetes(cases, repeat: int, local: dict, api_host: str) -> dict:
    """The cases again with ORCH_EXECUTOR=kubernetes (the child starts the stand-in unless a
    cluster is configured), next to the local executor's figures."""
    kubernetes = _run_child(
        cases,
        repeat,
        {"ORCH_EXECUTOR": "kubernetes"},
        ["--executor", "kubernetes", "--api-host", api_host],
    )
    return {
        "cluster": kubernetes.pop("cluster"),
        "local": local,
        "kubernetes": kubernetes,
        "comparison": compare(local, kubernetes, "kubernetes"),
        # Issue 11's targets (set for Celery; issue 12 sets none for pods), so the figures read
        # against the same marks. A real cluster adds its pod start to every hop (see cluster.py).
        "targets": {"per_hop_median_ms": 40, "fanout_100_kubernetes_wall_over_local": 1.5},
    }


def compare(local: dict, other: dict, name: str) -> dict:
    """The issue's two targets, per case: the `name` executor's per-hop median (a task's end to
    its downstream's start) and its wall time as a multiple of the local one."""
    out = {}
    for case, figures in other.items():
        if not isinstance(figures, dict) or "wall_s" not in figures or case not in local:
            continue
        out[case] = {
            "per_hop_median_ms": {
                "local": local[case]["inter_task_latency_median_ms"],
                name: figures["inter_task_latency_median_ms"],
            },
            "wall_s": {"local": local[case]["wall_s"], name: figures["wall_s"]},
            f"{name}_wall_over_local": round(figures["wall_s"] / local[case]["wall_s"], 2),
        }
    return out


def _run_child(cases, repeat: int, extra_env: dict[str, str], extra_args: list[str]) -> dict:
    """Re-run this benchmark in a child `manage.py benchmark --inside` pointed at a fresh
    ORCH_HOME, so it never touches the caller's database."""
    spec = ",".join(f"{s}:{n}:{k}" for s, n, k in cases)
    executor = extra_env.get("ORCH_EXECUTOR", "local")
    return run_benchmark_child(
        ["engine", "--inside", "--cases", spec, "--repeat", str(repeat), *extra_args],
        f"the {executor} executor's engine benchmark",
        extra_env,
    )


def run_benchmark_child(
    argv: list[str], what: str, extra_env: dict[str, str] | None = None
) -> dict[str, Any]:
    """`manage.py benchmark ARGV` in a child on a fresh ORCH_HOME and SQLite database (migrated
    first), so a benchmark never touches the caller's; returns the JSON of its last line, or
    raises naming `what` with the child's last error lines."""
    import json
    import tempfile

    with tempfile.TemporaryDirectory(prefix="orch-bench-") as home:
        env = {
            **os.environ,
            "ORCH_HOME": home,
            "ORCH_DATABASE_URL": f"sqlite:///{home}/bench.db",
            "ORCH_LOAD_EXAMPLES": "false",
            "ORCH_LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        env.pop("ORCH_DAGS_FOLDER", None)
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)
        out = subprocess.run([*manage, "benchmark", *argv], env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(
                f"{what} failed (exit {out.returncode}):\n"
                + "\n".join(out.stderr.strip().splitlines()[-20:])
            )
        return json.loads(out.stdout.strip().splitlines()[-1])
