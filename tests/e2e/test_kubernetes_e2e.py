"""The Kubernetes executor end to end: real DAG files, the real scheduler with a
KubernetesExecutor, the stand-in cluster (scheduler/kube_standin: the real Kubernetes REST API
through the unchanged official client, and a kubelet that runs each pod's container as a local process),
task runners in those "pods" reaching the Execution API over real HTTP. Faults: an image that
does not exist, a container OOM-killed, a pod deleted by someone else, a watch whose history
is gone (410), a scheduler SIGKILLed while its pods run.
"""

from __future__ import annotations

import functools
import os
import re
import signal
from collections import Counter
from pathlib import Path

import pytest
from kubernetes import config as kube_config
from kubernetes.client import CoreV1Api

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.domain.logs import ti_log_path
from dagruns.models import DagModel, DagRun, Job, TaskInstance
from dagruns.models.states import DAGRUN_FINISHED
from scheduler.executors.kubernetes.executor import KubernetesExecutor
from scheduler.executors.kubernetes.gc import collect_garbage
from scheduler.executors.kubernetes.labels import OUR_PODS, TI_ID_ANNOTATION, WORKER_LABEL
from scheduler.kube_standin.standin import KubeStandIn
from scheduler.kube_standin.template import write_runner_pod_template
from tests.e2e.conftest import HEADER, Engine, configure_engine
from tests.polling import wait_until
from tests.processes import free_port, server_env, start_api_server, start_scheduler, stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.own_cluster]

NAMESPACE = "default"

LEDGER_TASK = """
def record(ti=None, seconds=0.0):
    import os, time
    with open({ledger!r}, "a") as f:
        f.write(f"start {{ti.task_id}} {{ti.try_number}}\\n")
    print("working on", ti.task_id, flush=True)
    time.sleep(seconds)
    with open({ledger!r}, "a") as f:
        f.write(f"done {{ti.task_id}} {{ti.try_number}}\\n")
"""


@pytest.fixture
def kube(tmp_path):
    cluster = KubeStandIn(tmp_path / "kube").start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def kube_api(kube) -> CoreV1Api:
    return CoreV1Api(kube_config.new_client_from_config(config_file=str(kube.kubeconfig)))


def use_kubernetes(orch_settings, kube: KubeStandIn, tmp_path: Path) -> None:
    template = write_runner_pod_template(
        tmp_path / "pod_template.yaml", labels={"from-template": "yes"}
    )
    orch_settings.executor = "kubernetes"
    orch_settings.kubernetes_config_file = kube.kubeconfig
    orch_settings.kubernetes_pod_template_file = template
    orch_settings.kubernetes_namespace = NAMESPACE


@pytest.fixture
def engine(live_server, dags_folder, orch_settings, tmp_path, kube):
    configure_engine(orch_settings, live_server.url, tmp_path)
    use_kubernetes(orch_settings, kube, tmp_path)
    engine = Engine(dags_folder, executor="kubernetes")
    engine.use(KubernetesExecutor(8))
    yield engine
    engine.close()


def our_pods(api: CoreV1Api) -> list:
    return api.list_namespaced_pod(NAMESPACE, label_selector=OUR_PODS).items


def pod_of(api: CoreV1Api, task_id: str):
    pods = [p for p in our_pods(api) if p.metadata.labels.get("task_id") == task_id]
    return pods[0] if pods else None


def log_of(ti: TaskInstance) -> str:
    path = ti_log_path(ti)
    return path.read_text() if path.exists() else ""


def tick_until(engine: Engine, condition, what: str, timeout: float = 90.0) -> None:
    assert engine.scheduler().run_until(lambda _r: condition(), timeout=timeout), what


def start_long_task(engine: Engine, kube_api: CoreV1Api, ledger: Path, dag_id: str, task_id: str):
    """A DAG of one two-minute task, triggered and ticked until the task runs in its pod;
    returns (run, pod)."""
    engine.add(
        f"{dag_id}.py",
        LEDGER_TASK.format(ledger=str(ledger))
        + f"""
with DAG({dag_id!r}, schedule=None, start_date=START) as dag:
    PythonOperator(task_id={task_id!r}, python_callable=record, op_kwargs={{"seconds": 120}})
""",
    )
    engine.parse()
    run = engine.trigger(dag_id)
    tick_until(engine, lambda: ledger.exists(), "the task to start in its pod")
    return run, pod_of(kube_api, task_id)


def test_a_dag_runs_end_to_end_in_pods_that_are_then_deleted(engine, kube_api):
    engine.add(
        "k8s_hello.py",
        """
with DAG("k8s_hello", schedule=None, start_date=START) as dag:
    BashOperator(task_id="hello", bash_command="echo hello from a pod") >> \\
        PythonOperator(task_id="add", python_callable=lambda: 1 + 1)
""",
    )
    engine.parse()
    run = engine.run_dag("k8s_hello", timeout=120)
    assert run.state == "success", engine.states(run)
    assert engine.states(run) == {"hello": "success", "add": "success"}
    assert "hello from a pod" in log_of(engine.ti(run, "hello"))
    # ORCH_KUBERNETES_DELETE_WORKER_PODS (default true): the pods go, and their token Secrets
    # with them (the pod owns its Secret).
    tick_until(engine, lambda: not our_pods(kube_api), "the finished pods to be deleted")
    wait_until(
        lambda: (
            not [
                s
                for s in kube_api.list_namespaced_secret(NAMESPACE).items
                if "-token" in s.metadata.name
            ]
        ),
        "the token Secrets to go with their pods",
    )


def test_an_image_that_does_not_exist_fails_the_try_with_the_pods_reason(
    engine, kube_api, orch_settings
):
    orch_settings.kubernetes_pod_pending_timeout = 2.0
    engine.add(
        "k8s_bad_image.py",
        """
from kubernetes.client import models as k8s
with DAG("k8s_bad_image", schedule=None, start_date=START) as dag:
    BashOperator(
        task_id="pull",
        bash_command="echo never",
        executor_config={"pod_override": k8s.V1Pod(spec=k8s.V1PodSpec(containers=[
            k8s.V1Container(name="base", image="registry.example/does-not-exist:1")]))},
    )
""",
    )
    engine.parse()
    run = engine.run_dag("k8s_bad_image", timeout=120)
    ti = engine.ti(run, "pull")
    assert ti.state == "failed"
    log = log_of(ti)
    assert "ORCH_KUBERNETES_POD_PENDING_TIMEOUT" in log
    assert "ErrImagePull" in log or "ImagePullBackOff" in log, log
    tick_until(engine, lambda: not our_pods(kube_api), "the pending pod to be deleted")


def test_an_oom_killed_container_fails_the_try_saying_so_and_the_failed_pod_is_kept(
    engine, kube, kube_api, tmp_path, orch_settings
):
    ledger = tmp_path / "ledger"
    run, pod = start_long_task(engine, kube_api, ledger, "k8s_oom", "hog")
    kube.oom_kill(pod.metadata.name, NAMESPACE)
    engine.run(run, timeout=60)
    ti = engine.ti(run, "hog")
    assert ti.state == "failed"
    log = log_of(ti)
    assert "OOMKilled" in log and pod.metadata.name in log, log
    # ORCH_KUBERNETES_DELETE_WORKER_PODS_ON_FAILURE is false by default: kept for debugging.
    kept = pod_of(kube_api, "hog")
    assert kept is not None and kept.status.phase == "Failed"
    # Beat's pod garbage collection keeps it too, until told to delete failed pods.
    assert collect_garbage(kube_api, NAMESPACE) == (0, 1)
    orch_settings.kubernetes_delete_worker_pods_on_failure = True
    assert collect_garbage(kube_api, NAMESPACE) == (1, 0)


def test_a_pod_deleted_by_someone_else_mid_run_fails_its_try_saying_so(
    engine, kube, kube_api, tmp_path
):
    ledger = tmp_path / "ledger"
    run, pod = start_long_task(engine, kube_api, ledger, "k8s_deleted", "victim")
    kube.delete_pod(pod.metadata.name, NAMESPACE, grace_period_seconds=0)
    engine.run(run, timeout=60)
    ti = engine.ti(run, "victim")
    assert ti.state == "failed"
    assert f"The pod {pod.metadata.name} was deleted (not by this scheduler)" in log_of(ti)


def test_a_watch_whose_history_is_gone_lists_again_and_sees_the_end(
    engine, kube, kube_api, tmp_path
):
    ledger = tmp_path / "ledger"
    go = tmp_path / "go"
    engine.add(
        "k8s_relist.py",
        f"""
def wait_for_go(ti=None):
    import os, time
    open({str(ledger)!r}, "a").write("start\\n")
    while not os.path.exists({str(go)!r}):
        time.sleep(0.05)
with DAG("k8s_relist", schedule=None, start_date=START) as dag:
    PythonOperator(task_id="waits", python_callable=wait_for_go)
""",
    )
    engine.parse()
    run = engine.trigger("k8s_relist")
    tick_until(engine, lambda: ledger.exists(), "the task to start in its pod")
    executor = engine.scheduler().executor
    assert isinstance(executor, KubernetesExecutor) and executor.watcher is not None
    relists = executor.watcher.relists
    kube.compact()  # the watch's resourceVersion is now too old: a new watch gets 410 Gone
    kube.drop_watches()
    go.write_text("")
    engine.run(run, timeout=90)
    assert engine.ti(run, "waits").state == "success"
    assert executor.watcher.relists > relists


def processes_env(dags_folder, orch_settings, tmp_path, kube, dag_id: str, source: str):
    """For tests that run `manage.py scheduler` processes on the stand-in: the DAG file
    written, parsed and unpaused; returns (environment, API port)."""
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.home = tmp_path
    use_kubernetes(orch_settings, kube, tmp_path)
    (dags_folder / f"{dag_id}.py").write_text(HEADER + source)
    from scheduler.processor.loop import DagProcessor

    DagProcessor(timeout=30).run_once()
    DagModel.objects.filter(dag_id=dag_id).update(is_paused=False)
    port = free_port()
    env = server_env(
        tmp_path,
        port,
        ORCH_EXECUTOR="kubernetes",
        ORCH_KUBERNETES_CONFIG_FILE=str(kube.kubeconfig),
        ORCH_KUBERNETES_POD_TEMPLATE_FILE=str(orch_settings.kubernetes_pod_template_file),
        ORCH_KUBERNETES_NAMESPACE=NAMESPACE,
        ORCH_DAGS_FOLDER=str(dags_folder),
        ORCH_TASK_HEARTBEAT_INTERVAL="0.5",
    )
    return env, port


def let_finish(go: Path, run: DagRun, api: CoreV1Api, under: str) -> None:
    """Let the waiting tasks end (the `go` file), then wait for the run to finish and its
    pods to be deleted."""
    go.write_text("")
    wait_until(
        lambda: DagRun.objects.get(pk=run.pk).state in DAGRUN_FINISHED,
        f"the run to finish under {under}",
        timeout=120,
    )
    wait_until(lambda: not our_pods(api), "no pod left behind", timeout=60)


@pytest.fixture
def scheduler_processes_env(dags_folder, orch_settings, tmp_path, kube):
    """processes_env() with this test's folders and cluster: call it with (dag_id, source)."""
    return functools.partial(processes_env, dags_folder, orch_settings, tmp_path, kube)


def kill_scheduler_with_pods_running(env, port, dag_id: str, running: int, processes: list):
    """Start the API server and a scheduler (added to `processes`, which the caller stops),
    trigger `dag_id`, wait until `running` tries run in pods, then SIGKILL the scheduler.
    Returns (the run, the killed scheduler's job)."""
    processes.append(start_api_server(env, port))
    first = start_scheduler(env)
    processes.append(first)
    run = do_trigger_dag(dag_id, Actor(name="test"))
    wait_until(
        lambda: TaskInstance.objects.filter(dag_run=run, state="running").count() == running,
        f"{running} tries running in pods",
        timeout=120,
    )
    first_job = Job.objects.get(job_type="scheduler", state="running")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(30)
    return run, first_job


def test_a_scheduler_killed_while_its_pods_run_is_replaced_by_one_that_adopts_them(
    scheduler_processes_env, tmp_path, kube_api
):
    ledger = tmp_path / "ledger"
    go = tmp_path / "go"
    env, port = scheduler_processes_env(
        "k8s_handover",
        f"""
def record(ti=None):
    import os, time
    with open({str(ledger)!r}, "a") as f:
        f.write(f"start {{ti.task_id}}\\n")
    while not os.path.exists({str(go)!r}):
        time.sleep(0.05)

with DAG("k8s_handover", schedule=None, start_date=START) as dag:
    [PythonOperator(task_id=f"t{{i}}", python_callable=record) for i in range(3)] >> \\
        PythonOperator(task_id="after", python_callable=record)
""",
    )
    processes: list = []
    try:
        run, first_job = kill_scheduler_with_pods_running(env, port, "k8s_handover", 3, processes)
        waiting = TaskInstance.objects.filter(dag_run=run, task_id__in=["t0", "t1", "t2"])
        assert len(our_pods(kube_api)) == 3  # the pods live on without their scheduler
        processes.append(start_scheduler(env))
        wait_until(
            lambda: (
                Job.objects.filter(job_type="scheduler", state="running").exists()
                and set(waiting.values_list("queued_by_job_id", flat=True)) != {first_job.pk}
            ),
            "the second scheduler to adopt the three tries",
            timeout=120,
        )
        second_job = Job.objects.get(job_type="scheduler", state="running")
        wait_until(
            lambda: set(waiting.values_list("queued_by_job_id", flat=True)) == {second_job.pk},
            "all three tries claimed by the second scheduler",
        )
        wait_until(
            lambda: (
                {p.metadata.labels["airflow-worker"] for p in our_pods(kube_api)}
                == {str(second_job.pk)}
            ),
            "the adopted pods relabelled with the second scheduler's job id",
        )
        let_finish(go, run, kube_api, "the second scheduler")
    finally:
        for process in processes:
            stop(process)
    run.refresh_from_db()
    assert run.state == "success"
    tis = TaskInstance.objects.filter(dag_run=run)
    assert {ti.task_id: (ti.state, ti.try_number) for ti in tis} == {
        "t0": ("success", 1),
        "t1": ("success", 1),
        "t2": ("success", 1),
        "after": ("success", 1),
    }
    starts = Counter(row.split()[1] for row in ledger.read_text().splitlines())
    assert starts == {"t0": 1, "t1": 1, "t2": 1, "after": 1}  # adopted, never started again


ADOPTED_WHILE_RUNNING = re.compile(r"Kubernetes pods of schedulers that are gone: (\d+) adopted")


def test_a_scheduler_killed_while_its_pods_run_has_them_adopted_by_a_live_peer(
    scheduler_processes_env, tmp_path, kube_api
):
    """Two schedulers run; the one that launched three pods is SIGKILLed. The other takes the
    pods over at its next orphan check (ORCH_ORPHANED_TASKS_CHECK_INTERVAL), without a
    restart: it claims their tries, relabels the pods, holds a slot for each, and the run
    finishes under it with every task started once."""
    ledger = tmp_path / "ledger"
    go = tmp_path / "go"
    env, port = scheduler_processes_env("k8s_peer", tasks_waiting_for(go, ledger, "k8s_peer", 3))
    env = {**env, "ORCH_LOG_LEVEL": "INFO", "ORCH_ORPHANED_TASKS_CHECK_INTERVAL": "0.5"}
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    processes: list = [start_api_server(env, port)]
    try:
        first = start_scheduler(env, log_file=first_log)
        processes.append(first)
        run = do_trigger_dag("k8s_peer", Actor(name="test"))
        tis = TaskInstance.objects.filter(dag_run=run)
        wait_until(lambda: tis.filter(state="running").count() == 3, "3 tries running in pods", 120)
        first_job = Job.objects.get(job_type="scheduler", state="running", pid=first.pid)
        second = start_scheduler(env, log_file=second_log)
        processes.append(second)
        wait_until(  # past its start (and its adoption at start, which finds nothing)
            lambda: last_match(SLOTS_IN_USE, second_log) == 0, "the second scheduler's first tick"
        )
        second_job = Job.objects.get(job_type="scheduler", state="running", pid=second.pid)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(30)
        wait_until(
            lambda: set(tis.values_list("queued_by_job_id", flat=True)) == {second_job.pk},
            "the live scheduler to claim the dead one's three tries",
            timeout=60,
        )
        wait_until(
            lambda: (
                {p.metadata.labels[WORKER_LABEL] for p in our_pods(kube_api)}
                == {str(second_job.pk)}
            ),
            "the pods relabelled with the live scheduler's job id",
        )
        wait_until(  # written once the orphan check's pass (and its garbage collection) ends
            lambda: last_match(ADOPTED_WHILE_RUNNING, second_log) == 3,
            "the live scheduler's log line: 3 pods adopted",
        )
        assert last_match(ADOPTED_AT_START, second_log) is None
        assert Job.objects.get(pk=first_job.pk).state == "failed"
        wait_until(
            lambda: last_match(SLOTS_IN_USE, second_log) == 3,
            "the adopted pods in the live scheduler's slots",
        )
        let_finish(go, run, kube_api, "the live scheduler")
        wait_until(
            lambda: last_match(SLOTS_IN_USE, second_log) == 0,
            "the live scheduler's slots free again (no leak)",
        )
    finally:
        for process in processes:
            stop(process)
    assert_each_succeeded_at_its_first_try(run, tis, 3)
    starts = Counter(row.split()[1] for row in ledger.read_text().splitlines() if "start" in row)
    assert starts == {"t0": 1, "t1": 1, "t2": 1}  # adopted, never started again


ADOPTED_AT_START = re.compile(r"Kubernetes pods at start: (\d+) adopted")
SLOTS_IN_USE = re.compile(r"Kubernetes executor: (\d+) of \d+ slots in use")


def tasks_waiting_for(go: Path, ledger: Path, dag_id: str, tries: int) -> str:
    """A DAG file's body: `tries` tasks t0…, each writing start and done lines to `ledger`
    around a wait for the file `go`."""
    return LEDGER_TASK.replace(
        "time.sleep(seconds)", "while not os.path.exists({go!r}): time.sleep(0.05)"
    ).format(ledger=str(ledger), go=str(go)) + (
        f'\nwith DAG("{dag_id}", schedule=None, start_date=START) as dag:\n'
        f'    [PythonOperator(task_id=f"t{{i}}", python_callable=record) for i in range({tries})]\n'
    )


def assert_each_succeeded_at_its_first_try(run: DagRun, tis, tries: int) -> None:
    """The run succeeded, and each of its tasks t0…t{tries-1} at try 1 (none ran again)."""
    run.refresh_from_db()
    assert run.state == "success"
    assert {ti.task_id: (ti.state, ti.try_number) for ti in tis} == {
        f"t{i}": ("success", 1) for i in range(tries)
    }


def last_match(pattern: re.Pattern, log: Path) -> int | None:
    found = pattern.findall(log.read_text()) if log.exists() else []
    return int(found[-1]) if found else None


@pytest.mark.postgres_only
def test_two_schedulers_started_at_once_over_a_dead_ones_pods_each_adopt_a_pod_once(
    scheduler_processes_env, tmp_path, kube_api
):
    """A scheduler is SIGKILLed with six tries running in pods; two schedulers start at the
    same moment. Each pod goes to exactly one of them (its label and its try's
    queued_by_job_id say which), none is deleted or restarted, each try runs once, no slot
    leaks in either executor, and no pod is left."""
    tries = 6
    ledger = tmp_path / "ledger"
    go = tmp_path / "go"
    env, port = scheduler_processes_env("k8s_two", tasks_waiting_for(go, ledger, "k8s_two", tries))
    logs = [tmp_path / "scheduler-a.log", tmp_path / "scheduler-b.log"]
    processes: list = []
    pair: list = []
    try:
        run, _ = kill_scheduler_with_pods_running(env, port, "k8s_two", tries, processes)
        tis = TaskInstance.objects.filter(dag_run=run)
        before = {p.metadata.name: p.metadata.uid for p in our_pods(kube_api)}
        assert len(before) == tries
        info = {**env, "ORCH_LOG_LEVEL": "INFO"}
        pair = [start_scheduler(info, log_file=log) for log in logs]
        processes += pair
        wait_until(
            lambda: (
                Job.objects.filter(
                    job_type="scheduler", state="running", pid__in=[p.pid for p in pair]
                ).count()
                == 2
            ),
            "both schedulers running",
            timeout=120,
        )
        ours = {
            str(pk)
            for pk in Job.objects.filter(
                job_type="scheduler", pid__in=[p.pid for p in pair]
            ).values_list("pk", flat=True)
        }
        wait_until(
            lambda: (
                {str(pk) for pk in tis.values_list("queued_by_job_id", flat=True)} <= ours
                and {p.metadata.labels[WORKER_LABEL] for p in our_pods(kube_api)} <= ours
            ),
            "every try claimed, and its pod relabelled, by one of the two",
            timeout=120,
        )
        owners = {str(pk): str(job) for pk, job in tis.values_list("pk", "queued_by_job_id")}
        for pod in our_pods(kube_api):
            # The pod's label names the scheduler whose claim on its try won.
            owner = owners[pod.metadata.annotations[TI_ID_ANNOTATION]]
            assert pod.metadata.labels[WORKER_LABEL] == owner
            assert pod.status.container_statuses[0].restart_count == 0
        assert {p.metadata.name: p.metadata.uid for p in our_pods(kube_api)} == before
        # Each scheduler says how many it adopted: together exactly the six, none twice.
        wait_until(
            lambda: sum(last_match(ADOPTED_AT_START, log) or 0 for log in logs) >= tries,
            "the schedulers to report their adoptions",
        )
        adopted = [last_match(ADOPTED_AT_START, log) or 0 for log in logs]
        assert sum(adopted) == tries, adopted
        # Each executor holds a slot per adopted pod (so the 0 below is a release, not a
        # count that never moved).
        wait_until(
            lambda: [last_match(SLOTS_IN_USE, log) for log in logs] == adopted,
            "each executor's slots in use to be its adopted pods",
        )
        let_finish(go, run, kube_api, "the two schedulers")
        wait_until(
            lambda: [last_match(SLOTS_IN_USE, log) for log in logs] == [0, 0],
            "both executors back to 0 slots in use (no leak)",
        )
    finally:
        for process in processes:
            stop(process)
    assert_each_succeeded_at_its_first_try(run, tis, tries)
    rows = Counter(tuple(row.split()[:2]) for row in ledger.read_text().splitlines())
    assert rows == {(step, f"t{i}"): 1 for i in range(tries) for step in ("start", "done")}


def test_a_task_asks_for_kubernetes_among_several_executors(
    live_server, dags_folder, orch_settings, tmp_path, kube, kube_api
):
    from scheduler.executors.base import load_executor

    configure_engine(orch_settings, live_server.url, tmp_path)
    use_kubernetes(orch_settings, kube, tmp_path)
    orch_settings.executor = "local,kubernetes"
    engine = Engine(dags_folder)
    engine.use(load_executor(orch_settings.executors, 4))
    try:
        engine.add(
            "k8s_mixed.py",
            """
def where():
    import os
    print("pod?", os.environ.get("HOSTNAME", ""))
    return os.environ.get("HOSTNAME", "")
with DAG("k8s_mixed", schedule=None, start_date=START) as dag:
    PythonOperator(task_id="here", python_callable=where) >> \\
        PythonOperator(task_id="in_pod", python_callable=where, executor="kubernetes")
""",
        )
        engine.parse()
        run = engine.run_dag("k8s_mixed", timeout=120)
    finally:
        engine.close()
    assert engine.states(run) == {"here": "success", "in_pod": "success"}
    executors = dict(TaskInstance.objects.filter(dag_run=run).values_list("task_id", "executor"))
    assert executors == {"here": "local", "in_pod": "kubernetes"}
    # The stand-in's kubelet sets HOSTNAME to the pod's name, as a real one does.
    assert "pod? k8s-mixed-in-pod-" in log_of(engine.ti(run, "in_pod"))


def test_what_the_container_printed_before_the_runner_could_log_is_appended_to_the_try_log(
    engine, kube_api
):
    engine.add(
        "k8s_no_runner.py",
        """
from kubernetes.client import models as k8s
broken = k8s.V1Pod(spec=k8s.V1PodSpec(containers=[k8s.V1Container(
    name="base", command=["sh", "-c", "echo cannot mount the DAGs volume >&2; exit 3"])]))
with DAG("k8s_no_runner", schedule=None, start_date=START) as dag:
    BashOperator(task_id="t", bash_command="echo never", executor_config={"pod_override": broken})
""",
    )
    engine.parse()
    run = engine.run_dag("k8s_no_runner", timeout=60)
    ti = engine.ti(run, "t")
    assert ti.state == "failed"
    log = log_of(ti)
    assert "cannot mount the DAGs volume" in log, log
    assert "exited (code 3) without reporting" in log, log


def test_a_malformed_pod_override_fails_the_try_naming_the_field(engine, kube_api):
    engine.add(
        "k8s_bad_override.py",
        """
from kubernetes.client import models as k8s
with DAG("k8s_bad_override", schedule=None, start_date=START) as dag:
    BashOperator(
        task_id="odd",
        bash_command="echo never",
        executor_config={"pod_override": k8s.V1Container(name="base")},
    )
""",
    )
    engine.parse()
    run = engine.run_dag("k8s_bad_override", timeout=60)
    ti = engine.ti(run, "odd")
    assert ti.state == "failed"
    assert "executor_config['pod_override'] must be a kubernetes.client.models.V1Pod" in log_of(ti)
    assert not our_pods(kube_api)


def test_marking_a_running_try_failed_deletes_its_pod_and_its_log_says_so(
    engine, kube_api, tmp_path
):
    from dagruns.actions.task_instances import do_mark_state

    ledger = tmp_path / "ledger"
    run, pod = start_long_task(engine, kube_api, ledger, "k8s_marked", "long")
    ti = engine.ti(run, "long")
    do_mark_state([ti], "failed", Actor(name="e2e"))
    tick_until(engine, lambda: not our_pods(kube_api), "the marked try's pod to be deleted")
    ti.refresh_from_db()
    assert ti.state == "failed"
    assert f"The scheduler deleted pod {pod.metadata.name}" in log_of(ti)
    assert "done" not in ledger.read_text()


def test_a_pod_whose_runner_saw_the_mark_before_the_scheduler_did_is_deleted_too(
    engine, kube_api, tmp_path
):
    """The other order of the race above: the runner's heartbeat learns of the mark first and
    stops the task (exit 2, the pod ends Failed) before any scheduler tick. Such a pod did not
    fail, so ORCH_KUBERNETES_DELETE_WORKER_PODS_ON_FAILURE (default false) does not keep it."""
    from dagruns.actions.task_instances import do_mark_state

    ledger = tmp_path / "ledger"
    run, pod = start_long_task(engine, kube_api, ledger, "k8s_marked_first", "long")
    ti = engine.ti(run, "long")
    do_mark_state([ti], "failed", Actor(name="e2e"))
    name = pod.metadata.name
    wait_until(
        lambda: kube_api.read_namespaced_pod(name, NAMESPACE).status.phase == "Failed",
        "the runner to stop its task on its own (no scheduler tick meanwhile)",
        timeout=60,
    )
    tick_until(engine, lambda: not our_pods(kube_api), "the marked try's pod to be deleted")
    ti.refresh_from_db()
    assert ti.state == "failed"
    assert f"The scheduler deleted pod {pod.metadata.name}" in log_of(ti)
    assert "done" not in ledger.read_text()


def test_beats_pod_gc_deletes_a_pod_whose_runner_stopped_a_try_marked_from_outside(
    engine, kube_api, tmp_path
):
    """The backstop for the race above when no scheduler deletes the pod (say the scheduler
    and the worker both died): beat's pod GC judges the exit-2 pod as not failed, so the
    default ORCH_KUBERNETES_DELETE_WORKER_PODS_ON_FAILURE=false does not keep it for ever."""
    from dagruns.actions.task_instances import do_mark_state

    run, pod = start_long_task(engine, kube_api, tmp_path / "ledger", "k8s_gc_marked", "long")
    do_mark_state([engine.ti(run, "long")], "failed", Actor(name="e2e"))
    name = pod.metadata.name
    wait_until(
        lambda: kube_api.read_namespaced_pod(name, NAMESPACE).status.phase == "Failed",
        "the runner to stop its task on its own (no scheduler tick meanwhile)",
        timeout=60,
    )
    assert collect_garbage(kube_api, NAMESPACE) == (1, 0)
    assert not our_pods(kube_api)


def test_a_try_queued_by_a_dead_scheduler_that_never_got_its_pod_is_queued_again(
    orch_settings, tmp_path, kube, kube_api
):
    from dagruns.domain.jobs import end_job, start_job
    from tests.builders import make_run, queue, ti_of

    orch_settings.log_dir = tmp_path / "logs"
    use_kubernetes(orch_settings, kube, tmp_path)
    dead = start_job("scheduler")
    end_job(dead, "failed")
    ti = queue(ti_of(make_run(), "extract"))
    TaskInstance.objects.filter(pk=ti.pk).update(executor="kubernetes", queued_by_job_id=dead.pk)
    me = start_job("scheduler")
    executor = KubernetesExecutor(4)
    kube.api_unreachable()
    try:
        executor.on_scheduler_started(me.pk)  # says so and goes on: no crash
        ti.refresh_from_db()
        assert ti.state == "queued"
        kube.api_reachable()
        wait_until(
            lambda: executor.sync() == [] and TaskInstance.objects.get(pk=ti.pk).state != "queued",
            "the adoption retried once the API answers",
        )
    finally:
        executor.end()
    ti.refresh_from_db()
    assert (ti.state, ti.try_number) == ("scheduled", 1)
    assert "stopped before it created its pod" in log_of(ti)


def test_a_try_queued_while_the_api_is_unreachable_gets_its_pod_once_it_answers(engine, kube):
    engine.add(
        "k8s_outage.py",
        """
with DAG("k8s_outage", schedule=None, start_date=START) as dag:
    BashOperator(task_id="later", bash_command="echo made it")
""",
    )
    engine.parse()
    kube.api_unreachable()
    run = engine.trigger("k8s_outage")
    tick_until(
        engine,
        lambda: TaskInstance.objects.filter(dag_run=run, state="queued").exists(),
        "the try queued while the API is down",
    )
    executor = engine.scheduler().executor
    assert isinstance(executor, KubernetesExecutor) and executor.running_count == 1
    kube.api_reachable()
    engine.run(run, timeout=90)
    assert engine.states(run) == {"later": "success"}
    assert "made it" in log_of(engine.ti(run, "later"))


def test_an_unschedulable_pod_fails_its_try_after_the_pending_timeout_saying_why(
    engine, kube, kube_api, orch_settings
):
    orch_settings.kubernetes_pod_pending_timeout = 2.0
    engine.add(
        "k8s_nowhere.py",
        """
with DAG("k8s_nowhere", schedule=None, start_date=START) as dag:
    BashOperator(task_id="t", bash_command="echo never")
""",
    )
    engine.parse()
    kube.unschedulable(True)
    run = engine.run_dag("k8s_nowhere", timeout=90)
    ti = engine.ti(run, "t")
    assert ti.state == "failed"
    log = log_of(ti)
    assert "did not start within 2 s (ORCH_KUBERNETES_POD_PENDING_TIMEOUT)" in log, log
    assert "Unschedulable" in log, log
