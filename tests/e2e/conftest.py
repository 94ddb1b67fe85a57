"""End-to-end harness: real DAG files → the real processor → the real scheduler and local
executor → real runner processes → the Execution API over real HTTP (pytest-django's live
server) → the database. Nothing is faked; each test reads final states from the database.

`TEST_EXECUTOR=celery` runs the same engine tests through the Celery executor instead: a private
redis-server and two real `manage.py celery worker` processes (two pool processes each, no
database settings) for the whole session of each pytest worker; the tests that do not use the
`engine` fixture are skipped then (they exercise other things than the engine's semantics).

`TEST_EXECUTOR=kubernetes` runs them through the Kubernetes executor: one stand-in cluster
(scheduler/kube_standin, its own process: the real Kubernetes REST API, and a kubelet that runs
each pod's container as a local process) for the whole session of each pytest worker, and a
fresh namespace for each test, so no test sees another's pods. Each try is a pod running the
task runner; the same tests are skipped as in the Celery pass.
"""

from __future__ import annotations

import contextlib
import os
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psutil
import pytest
from django.utils import timezone
from kubernetes.client.rest import ApiException

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.models import DagImportError, DagModel, DagRun, TaskInstance
from dagruns.models.states import DAGRUN_FINISHED
from scheduler.executors.base import BaseExecutor
from scheduler.executors.celery import CeleryExecutor
from scheduler.executors.kubernetes.client import core_api
from scheduler.executors.kubernetes.executor import KubernetesExecutor
from scheduler.executors.local import LocalExecutor
from scheduler.kube_standin.process import StandInProcess
from scheduler.kube_standin.template import write_runner_pod_template
from scheduler.processor.loop import DagProcessor
from scheduler.scheduling.loop import Scheduler

HEADER = """\
from datetime import datetime, timedelta
from dagruns.sdk import (DAG, BashOperator, BranchPythonOperator, EmptyOperator, Param,
    PythonOperator, ShortCircuitOperator, TaskGroup, TriggerRule, chain, task)
START = datetime(2024, 1, 1)
"""


class Engine:
    """Drives whole DAG runs through the real pieces."""

    def __init__(self, folder: Path, parallelism: int = 8, executor: str = "local") -> None:
        self.folder = folder
        self.parallelism = parallelism
        self.executor_name = executor
        self._scheduler: Scheduler | None = None

    def add(self, name: str, body: str) -> Path:
        path = self.folder / name
        path.write_text(HEADER + textwrap.dedent(body))
        return path

    def parse(self) -> None:
        DagProcessor(timeout=30).run_once()
        errors = list(DagImportError.objects.values_list("filename", "message"))
        assert not errors, errors
        DagModel.objects.update(is_paused=False)

    def trigger(self, dag_id: str, **kwargs) -> DagRun:
        return do_trigger_dag(dag_id, Actor(name="e2e"), **kwargs)

    def use(self, executor: BaseExecutor) -> None:
        """Drive this test's runs through `executor` (several executors at once, say) instead
        of one local executor."""
        assert self._scheduler is None, "choose the executor before the first tick"
        self._scheduler = Scheduler(executor=executor)

    def scheduler(self) -> Scheduler:
        """One scheduler (and executor) for the whole test, driven in steps."""
        if self._scheduler is None:
            executor: BaseExecutor
            if self.executor_name == "celery":
                executor = CeleryExecutor(self.parallelism)
            elif self.executor_name == "kubernetes":
                executor = KubernetesExecutor(self.parallelism)
            else:
                executor = LocalExecutor(self.parallelism)
            executor.start()
            self._scheduler = Scheduler(executor=executor)
        return self._scheduler

    def close(self) -> None:
        if self._scheduler is not None:
            self._scheduler.executor.end()

    def run(self, *runs: DagRun, timeout: float = 60.0) -> None:
        """Schedule until every given run finished."""
        pks = [r.pk for r in runs]

        def finished(_report) -> bool:
            states = DagRun.objects.filter(pk__in=pks).values_list("state", flat=True)
            return all(s in DAGRUN_FINISHED for s in states)

        assert self.scheduler().run_until(finished, timeout=timeout), self.describe(pks)

    def run_dag(self, dag_id: str, timeout: float = 60.0, **trigger_kwargs) -> DagRun:
        run = self.trigger(dag_id, **trigger_kwargs)
        self.run(run, timeout=timeout)
        run.refresh_from_db()
        return run

    @staticmethod
    def states(run: DagRun) -> dict[str, str | None]:
        return dict(TaskInstance.objects.filter(dag_run=run).values_list("task_id", "state"))

    @staticmethod
    def ti(run: DagRun, task_id: str) -> TaskInstance:
        return TaskInstance.objects.get(dag_run=run, task_id=task_id)

    @staticmethod
    def describe(pks) -> str:
        lines = [f"runs not finished at {timezone.now().isoformat()}:"]
        for run in DagRun.objects.filter(pk__in=pks):
            lines.append(f"  {run} {Engine.states(run)}")
        return "\n".join(lines)


TEST_EXECUTOR = os.environ.get("TEST_EXECUTOR", "local")


def pytest_collection_modifyitems(config, items):
    if TEST_EXECUTOR == "local":
        return
    here = Path(__file__).parent
    reasons = {
        "not engine": f"TEST_EXECUTOR={TEST_EXECUTOR} runs the engine semantics suite only",
        "local_executor": f"inspects the local executor's runners (TEST_EXECUTOR={TEST_EXECUTOR})",
        "own_cluster": "starts its own stand-in cluster and executor: the SQLite pass ran it",
    }
    for item in items:
        if here not in Path(item.fspath).parents:
            continue
        if "engine" not in item.fixturenames:
            item.add_marker(pytest.mark.skip(reason=reasons["not engine"]))
        elif item.get_closest_marker("local_executor"):
            item.add_marker(pytest.mark.skip(reason=reasons["local_executor"]))
        elif TEST_EXECUTOR == "kubernetes" and item.get_closest_marker("own_cluster"):
            item.add_marker(pytest.mark.skip(reason=reasons["own_cluster"]))


@pytest.fixture(scope="session")
def celery_cluster(tmp_path_factory) -> Iterator[str | None]:
    """TEST_EXECUTOR=celery: a private Redis and two workers for this pytest process; their
    broker URL (None under the local executor)."""
    if TEST_EXECUTOR != "celery":
        yield None
        return
    from tests.brokers import RedisServer
    from tests.celery_workers import Worker, running_workers

    base = tmp_path_factory.mktemp("celery")
    redis = RedisServer(base / "redis")
    redis.start()
    workers = [Worker(redis.url, f"e2e{i}@test", base / f"worker{i}.log") for i in (1, 2)]
    try:
        with running_workers(workers):
            _CELERY_WORKERS[:] = workers
            yield redis.url
    finally:
        _CELERY_WORKERS.clear()
        redis.stop()


# The session's Celery workers (TEST_EXECUTOR=celery), for the engine fixture's teardown.
_CELERY_WORKERS: list[Any] = []
# How long a test's runners still on the workers get to end before they are killed.
RUNNERS_END_GRACE = 30.0


def _stop_celery_runners() -> None:
    """The workers outlive each test: a runner of this test still reporting to its live server
    while pytest-django flushes the database makes PostgreSQL's TRUNCATE deadlock with the
    runner's insert. Let them end (bounded), then kill what is left, before the flush."""
    from tests.polling import wait_until

    def idle() -> bool:
        return not any(worker.runners() for worker in _CELERY_WORKERS)

    try:
        wait_until(idle, "the test's runners to end", timeout=RUNNERS_END_GRACE)
    except AssertionError:
        for worker in _CELERY_WORKERS:
            for runner in worker.runners():
                with contextlib.suppress(psutil.Error):
                    runner.kill()
        wait_until(idle, "the killed runners to be reaped", timeout=RUNNERS_END_GRACE)


@dataclass(frozen=True)
class KubeTarget:
    """Where an engine test's pods go under TEST_EXECUTOR=kubernetes."""

    kubeconfig: Path
    pod_template: Path  # runs this installation's task runner (scheduler/kube_standin)
    namespace: str


@pytest.fixture(scope="session")
def kube_standin(tmp_path_factory) -> Iterator[KubeTarget | None]:
    """TEST_EXECUTOR=kubernetes: a stand-in cluster process for this pytest process and the
    runner's pod template (namespace `default`; each test takes its own, `kube_target`)."""
    if TEST_EXECUTOR != "kubernetes":
        yield None
        return
    base = tmp_path_factory.mktemp("kube")
    standin = StandInProcess(base / "standin").start()
    template = write_runner_pod_template(base / "pod_template.yaml")
    try:
        yield KubeTarget(standin.kubeconfig, template, "default")
    finally:
        standin.stop()


@pytest.fixture
def kube_target(kube_standin) -> Iterator[KubeTarget | None]:
    """A namespace of this test's own on the session's stand-in; its pods are deleted at the
    end, so a test that ends with tries still running leaves no process behind."""
    if kube_standin is None:
        yield None
        return
    api = core_api(kube_standin.kubeconfig)
    name = f"e2e-{uuid.uuid4().hex[:12]}"
    api.create_namespace({"metadata": {"name": name}})
    try:
        yield replace(kube_standin, namespace=name)
    finally:
        for pod in api.list_namespaced_pod(name).items:
            with contextlib.suppress(ApiException):
                api.delete_namespaced_pod(pod.metadata.name, name, grace_period_seconds=0)
        api.api_client.close()


def configure_engine(
    orch_settings,
    api_url: str,
    tmp_path: Path,
    broker_url: str | None = None,
    kube: KubeTarget | None = None,
) -> None:
    """The settings an engine test runs under (its own home and logs, quick heartbeats and
    idle ticks); with `broker_url`, the Celery executor through that broker; with `kube`, the
    Kubernetes executor on that cluster."""
    orch_settings.api_url = api_url
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.home = tmp_path / "home"
    orch_settings.task_heartbeat_interval = 0.5
    orch_settings.scheduler_idle_sleep = 0.05
    if broker_url is not None:
        orch_settings.celery_broker_url = broker_url
        orch_settings.executor = "celery"
    if kube is not None:
        orch_settings.executor = "kubernetes"
        orch_settings.kubernetes_config_file = kube.kubeconfig
        orch_settings.kubernetes_pod_template_file = kube.pod_template
        orch_settings.kubernetes_namespace = kube.namespace


@pytest.fixture
def engine(
    live_server, dags_folder, orch_settings, tmp_path, celery_cluster, kube_target
) -> Engine:
    configure_engine(
        orch_settings, live_server.url, tmp_path, broker_url=celery_cluster, kube=kube_target
    )
    engine = Engine(dags_folder, executor=TEST_EXECUTOR)
    yield engine
    engine.close()
    if TEST_EXECUTOR == "celery":
        _stop_celery_runners()
