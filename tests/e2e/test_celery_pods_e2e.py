"""Celery workers that hand tries to Kubernetes pods (scheduler/worker/pods.py), end to end: the
real scheduler with a CeleryExecutor, a private redis-server, real `manage.py celery worker`
processes (no database settings; the cluster from their ORCH_KUBERNETES_* environment), the
stand-in cluster (scheduler/kube_standin) whose kubelet runs each pod's runner as a local process, and the
Execution API over real HTTP. Faults: a duplicate message for a try whose pod runs, a worker
SIGKILLed while its pod runs, an image that does not exist.
"""

# ruff: noqa: F811 (pytest fixtures imported by name, then requested as arguments)

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from kubernetes.client import CoreV1Api

from dagruns.models import TaskInstance
from scheduler.executors.kubernetes.gc import collect_garbage
from scheduler.executors.kubernetes.labels import CELERY_WORKER_LABEL, OUR_PODS, safe_label_value
from scheduler.kube_standin.standin import KubeStandIn
from scheduler.kube_standin.template import write_runner_pod_template
from scheduler.scheduling.queueing import workload_for
from tests.brokers import redis_server  # noqa: F401
from tests.celery_workers import Worker, running_workers, worker_env
from tests.e2e.conftest import Engine, configure_engine
from tests.e2e.test_kubernetes_e2e import NAMESPACE, log_of
from tests.kube.fixtures import kube_api, kube_cluster  # noqa: F401
from tests.polling import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WAITING_TASK = """
def wait_for_go(ti=None):
    import os, time
    with open({ledger!r}, "a") as f:
        f.write(f"start {{ti.task_id}} {{ti.try_number}}\\n")
    print("pod?", os.environ.get("HOSTNAME", ""), flush=True)
    while not os.path.exists({go!r}):
        time.sleep(0.05)

def where():
    import os
    print("pod?", os.environ.get("HOSTNAME", ""))
"""


def kube_worker(
    redis_url: str, kube: KubeStandIn, tmp_path: Path, name: str, *options: str
) -> Worker:
    """A worker whose environment names the cluster (and nothing about any database)."""
    template = write_runner_pod_template(tmp_path / "pod_template.yaml")
    env = worker_env(
        redis_url,
        ORCH_KUBERNETES_CONFIG_FILE=str(kube.kubeconfig),
        ORCH_KUBERNETES_POD_TEMPLATE_FILE=str(template),
        ORCH_KUBERNETES_NAMESPACE=NAMESPACE,
        ORCH_KUBERNETES_POD_PENDING_TIMEOUT="3",
    )
    return Worker(redis_url, name, tmp_path / f"{name}.log", env=env, options=options)


@pytest.fixture
def engine(live_server, dags_folder, orch_settings, tmp_path, redis_server):
    configure_engine(orch_settings, live_server.url, tmp_path, broker_url=redis_server.url)
    engine = Engine(dags_folder, executor="celery")
    yield engine
    engine.close()


def our_pods(api: CoreV1Api, task_id: str | None = None) -> list:
    pods = api.list_namespaced_pod(NAMESPACE, label_selector=OUR_PODS).items
    return [p for p in pods if task_id is None or p.metadata.labels["task_id"] == task_id]


def test_a_dag_runs_end_to_end_through_a_worker_that_hands_every_try_to_a_pod(
    engine, redis_server, kube_cluster, kube_api, tmp_path
):
    ledger, go = tmp_path / "ledger", tmp_path / "go"
    engine.add(
        "pods_hello.py",
        WAITING_TASK.format(ledger=str(ledger), go=str(go))
        + """
with DAG("pods_hello", schedule=None, start_date=START) as dag:
    BashOperator(task_id="hello", bash_command="echo hello from a pod") >> \\
        PythonOperator(task_id="waits", python_callable=wait_for_go)
""",
    )
    engine.parse()
    worker = kube_worker(redis_server.url, kube_cluster, tmp_path, "pods@test", "--pods")
    with running_workers([worker]):
        run = engine.trigger("pods_hello")
        scheduler = engine.scheduler()
        assert scheduler.run_until(lambda _r: ledger.exists(), timeout=90), engine.describe(
            [run.pk]
        )
        [pod] = our_pods(kube_api, "waits")
        assert pod.metadata.labels[CELERY_WORKER_LABEL] == safe_label_value("pods@test")
        # The same try's message once more (as the broker delivers it again after a worker
        # died): the worker watches the try's pod instead of starting a second one.
        ti = TaskInstance.objects.select_related("dag_run").get(dag_run=run, task_id="waits")
        scheduler.executor.queue(workload_for(ti))
        wait_until(
            lambda: f"its pod {pod.metadata.name} exists already" in worker.log(),
            "the second delivery to find the try's pod",
        )
        assert [p.metadata.name for p in our_pods(kube_api, "waits")] == [pod.metadata.name]
        go.write_text("")
        engine.run(run, timeout=90)
        # ORCH_KUBERNETES_DELETE_WORKER_PODS (default true): the worker deletes the pods.
        wait_until(lambda: not our_pods(kube_api), "the worker to delete the finished pods")
    assert engine.states(run) == {"hello": "success", "waits": "success"}
    assert "hello from a pod" in log_of(engine.ti(run, "hello"))
    # The stand-in's kubelet sets HOSTNAME to the pod's name, as a real one does.
    assert f"pod? {pod.metadata.name}" in log_of(engine.ti(run, "waits"))
    assert Counter(ledger.read_text().splitlines()) == {"start waits 1": 1}


def test_a_plain_worker_runs_pod_override_tasks_in_pods_and_says_why_a_pod_failed(
    engine, redis_server, kube_cluster, kube_api, tmp_path
):
    engine.add(
        "pods_override.py",
        WAITING_TASK.format(ledger="", go="")
        + """
from kubernetes.client import models as k8s
labelled = k8s.V1Pod(metadata=k8s.V1ObjectMeta(labels={"team": "data"}))
missing = k8s.V1Pod(spec=k8s.V1PodSpec(containers=[
    k8s.V1Container(name="base", image="registry.example/does-not-exist:1")]))
no_runner = k8s.V1Pod(spec=k8s.V1PodSpec(containers=[k8s.V1Container(
    name="base", command=["sh", "-c", "echo cannot mount the DAGs volume >&2; exit 3"])]))
with DAG("pods_override", schedule=None, start_date=START) as dag:
    PythonOperator(task_id="here", python_callable=where)
    PythonOperator(task_id="in_pod", python_callable=where,
                   executor_config={"pod_override": labelled})
    BashOperator(task_id="pull", bash_command="echo never",
                 executor_config={"pod_override": missing})
    BashOperator(task_id="broken", bash_command="echo never",
                 executor_config={"pod_override": no_runner})
""",
    )
    engine.parse()
    worker = kube_worker(redis_server.url, kube_cluster, tmp_path, "plain@test")
    with running_workers([worker]):
        run = engine.trigger("pods_override")
        assert engine.scheduler().run_until(
            lambda _r: bool(our_pods(kube_api, "in_pod")), timeout=90
        ), engine.describe([run.pk])
        assert our_pods(kube_api, "in_pod")[0].metadata.labels["team"] == "data"
        engine.run(run, timeout=90)
        # The failed pod of `broken` is kept (ORCH_KUBERNETES_DELETE_WORKER_PODS_ON_FAILURE
        # is false by default); the others are deleted.
        wait_until(
            lambda: [p.metadata.labels["task_id"] for p in our_pods(kube_api)] == ["broken"],
            "the worker to delete the pods of in_pod and pull",
        )
    assert engine.states(run) == {
        "here": "success",
        "in_pod": "success",
        "pull": "failed",
        "broken": "failed",
    }
    here, in_pod = log_of(engine.ti(run, "here")), log_of(engine.ti(run, "in_pod"))
    assert "pod? pods-override-in-pod-" in in_pod, in_pod
    assert "pod? pods-override-" not in here, here  # no pod_override: the worker's runner
    pull = log_of(engine.ti(run, "pull"))
    assert "did not start within 3 s (ORCH_KUBERNETES_POD_PENDING_TIMEOUT)" in pull, pull
    assert "ErrImagePull" in pull or "ImagePullBackOff" in pull, pull
    # What the container printed when its runner never ran reaches the try's log.
    broken = log_of(engine.ti(run, "broken"))
    assert "cannot mount the DAGs volume" in broken, broken
    assert "exited (code 3) without reporting" in broken, broken


def test_a_worker_killed_while_its_pod_runs_leaves_the_try_to_end_once_and_the_pod_to_gc(
    engine, redis_server, kube_cluster, kube_api, tmp_path
):
    ledger, go = tmp_path / "ledger", tmp_path / "go"
    engine.add(
        "pods_orphan.py",
        WAITING_TASK.format(ledger=str(ledger), go=str(go))
        + """
with DAG("pods_orphan", schedule=None, start_date=START) as dag:
    PythonOperator(task_id="waits", python_callable=wait_for_go)
""",
    )
    engine.parse()
    worker = kube_worker(redis_server.url, kube_cluster, tmp_path, "doomed@test", "--pods")
    with running_workers([worker]):
        run = engine.trigger("pods_orphan")
        assert engine.scheduler().run_until(lambda _r: ledger.exists(), timeout=90), (
            engine.describe([run.pk])
        )
        worker.kill()
    [pod] = our_pods(kube_api, "waits")
    assert pod.status.phase == "Running"  # the pod lives on without its worker
    go.write_text("")
    engine.run(run, timeout=90)  # its runner reports through the Execution API on its own
    ti = engine.ti(run, "waits")
    assert (ti.state, ti.try_number) == ("success", 1)
    assert Counter(ledger.read_text().splitlines()) == {"start waits 1": 1}
    name = pod.metadata.name
    wait_until(
        lambda: kube_api.read_namespaced_pod(name, NAMESPACE).status.phase == "Succeeded",
        "the pod to end (nobody watches it)",
    )
    # Beat's pod garbage collection: the try is over, so its pod goes.
    assert collect_garbage(kube_api, NAMESPACE) == (1, 0)
    assert not our_pods(kube_api)
