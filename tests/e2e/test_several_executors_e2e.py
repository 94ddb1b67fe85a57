"""Several executors at once, end to end with real runner processes.

`ORCH_EXECUTOR=local,celery` for real: the scheduler's routing executor over the local executor
and the Celery executor, a private redis-server and a real `manage.py celery worker`; one task
runs here, the next on the worker, XComs cross between them, and clearing a task that runs on
the worker kills it there. Then the routing itself in detail over two local process pools (the
second standing in under the name `celery`): one executor's parallelism bounds its own tasks
only, and a kill reaches the executor that runs the try."""

from __future__ import annotations

import textwrap

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.actions.task_instances import do_clear, select_task_instances
from dagruns.models import DagImportError, DagModel, DagRun, TaskInstance
from dagruns.models.states import DAGRUN_FINISHED
from scheduler.executors.base import load_executor
from scheduler.executors.liveness import this_host
from scheduler.executors.local import LocalExecutor
from scheduler.executors.multi import MultiExecutor
from scheduler.processor.loop import DagProcessor
from scheduler.runner.workload import Workload
from tests.brokers import redis_server  # noqa: F401
from tests.celery_workers import Worker, celery_server_env, running_workers
from tests.polling import wait_until
from tests.processes import free_port, start_api_server, start_scheduler, stop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def local_and_celery(engine, orch_settings, redis_server, tmp_path):  # noqa: F811
    """ORCH_EXECUTOR=local,celery as the scheduler loads it, and one real Celery worker."""
    orch_settings.executor = "local,celery"
    orch_settings.celery_broker_url = redis_server.url
    engine.use(load_executor(orch_settings.executors, 4))
    worker = Worker(redis_server.url, "w1@test", tmp_path / "worker.log")
    with running_workers([worker]):
        yield worker


def test_one_task_runs_here_and_the_next_on_a_celery_worker(engine, local_and_celery):
    engine.add(
        "hybrid.py",
        """
        @task
        def extract():
            return [1, 2, 3]

        @task(executor="celery")
        def transform(rows):
            return sum(rows) * 10

        @task
        def load(total):
            assert total == 60, total

        with DAG("hybrid", schedule=None, start_date=START):
            load(transform(extract()))
        """,
    )
    engine.parse()
    run = engine.run_dag("hybrid", timeout=120)
    assert run.state == "success", engine.describe([run.pk])
    rows = {
        task_id: (executor, hostname)
        for task_id, executor, hostname in TaskInstance.objects.filter(dag_run=run).values_list(
            "task_id", "executor", "hostname"
        )
    }
    assert rows == {
        "extract": ("local", this_host()),
        "transform": ("celery", "w1@test"),
        "load": ("local", this_host()),
    }


def test_clearing_a_task_running_on_the_celery_worker_kills_it_there(engine, local_and_celery):
    engine.add(
        "long_celery.py",
        """
        def long(ti=None):
            import time
            if ti.try_number == 1:
                time.sleep(120)

        with DAG("long_celery", schedule=None, start_date=START):
            PythonOperator(task_id="t", python_callable=long, executor="celery")
            BashOperator(task_id="here", bash_command="true")
        """,
    )
    engine.parse()
    run = engine.trigger("long_celery")
    scheduler = engine.scheduler()
    assert scheduler.run_until(lambda _r: engine.ti(run, "t").state == "running", timeout=90)
    first = engine.ti(run, "t")
    assert first.hostname == "w1@test"
    do_clear(
        select_task_instances("long_celery", run_ids=[run.run_id], task_ids=["t"]),
        Actor(name="e2e"),
    )
    engine.run(run, timeout=90)
    run.refresh_from_db()
    ti = engine.ti(run, "t")
    assert (run.state, ti.state, ti.try_number, ti.executor) == ("success", "success", 2, "celery")
    assert engine.ti(run, "here").executor == "local"
    wait_until(lambda: not _alive(first.pid), "the first try's runner to be gone")


def test_a_scheduler_process_started_with_local_and_celery_routes_each_task(
    dags_folder,
    orch_settings,
    tmp_path,
    redis_server,  # noqa: F811
):
    """The production path: `manage.py scheduler` reads ORCH_EXECUTOR=local,celery from its
    environment, next to a uvicorn API server and a real Celery worker."""
    orch_settings.executor = "local,celery"
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.home = tmp_path
    (dags_folder / "procs.py").write_text(
        textwrap.dedent(
            """
            from datetime import datetime
            from dagruns.sdk import DAG, BashOperator

            with DAG("procs", schedule=None, start_date=datetime(2024, 1, 1)):
                BashOperator(task_id="here", bash_command="echo here") >> BashOperator(
                    task_id="there", bash_command="echo there", executor="celery")
            """
        )
    )
    DagProcessor(timeout=30).run_once()
    assert not DagImportError.objects.exists()
    DagModel.objects.filter(dag_id="procs").update(is_paused=False)
    port = free_port()
    env = celery_server_env(tmp_path, port, redis_server.url, executor="local,celery")
    env["ORCH_DAGS_FOLDER"] = str(dags_folder)
    worker = Worker(redis_server.url, "w1@test", tmp_path / "worker.log")
    api = start_api_server(env, port)
    scheduler = start_scheduler(env)
    try:
        with running_workers([worker]):
            run = do_trigger_dag("procs", Actor(name="e2e"))

            def finished() -> bool:
                assert scheduler.poll() is None, "the scheduler exited"
                return DagRun.objects.get(pk=run.pk).state in DAGRUN_FINISHED

            wait_until(finished, "the run to finish", timeout=180)
    finally:
        stop(scheduler)
        stop(api)
    assert DagRun.objects.get(pk=run.pk).state == "success"
    rows = TaskInstance.objects.filter(dag_run_id=run.pk).values_list(
        "task_id", "state", "executor", "hostname"
    )
    assert sorted(rows) == [
        ("here", "success", "local", this_host()),
        ("there", "success", "celery", "w1@test"),
    ]


class Witness(LocalExecutor):
    """A real local executor that remembers which tasks it was handed."""

    def __init__(self, parallelism: int) -> None:
        super().__init__(parallelism)
        self.task_ids: list[str] = []

    def queue(self, workload: Workload) -> None:
        self.task_ids.append(workload.task_id)
        super().queue(workload)


@pytest.fixture
def executors(engine, orch_settings):
    orch_settings.executor = "local,celery"
    local, second = Witness(4), Witness(1)
    engine.use(MultiExecutor({"local": local, "celery": second}))
    return local, second


def executor_of(run) -> dict[str, str]:
    return dict(TaskInstance.objects.filter(dag_run=run).values_list("task_id", "executor"))


def test_each_task_runs_on_the_executor_it_names_and_xcoms_cross_between_them(engine, executors):
    local, second = executors
    engine.add(
        "mixed.py",
        """
        @task
        def make():
            return 21

        @task(executor="celery")
        def double(x):
            return 2 * x

        @task
        def check(value):
            assert value == 42, value

        with DAG("mixed", schedule=None, start_date=START):
            check(double(make()))
        """,
    )
    engine.parse()
    run = engine.run_dag("mixed")
    assert run.state == "success", engine.states(run)
    assert sorted(local.task_ids) == ["check", "make"]
    assert second.task_ids == ["double"]
    assert executor_of(run) == {"make": "local", "double": "celery", "check": "local"}


def test_one_executors_parallelism_bounds_its_own_tasks_only(engine, executors, tmp_path):
    """The second executor has one slot: its three tasks run one after another (their start
    and end lines never interleave), while the local tasks run beside them."""
    local, second = executors
    ledger = tmp_path / "ledger.txt"
    engine.add(
        "slots.py",
        f"""
        import os, time

        def note(tag):
            fd = os.open({str(ledger)!r}, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            os.write(fd, (tag + "\\n").encode())
            os.close(fd)

        def remote(ti=None):
            note("start " + ti.task_id)
            time.sleep(0.3)
            note("end " + ti.task_id)

        with DAG("slots", schedule=None, start_date=START, max_active_tasks=16):
            for i in range(3):
                PythonOperator(task_id=f"remote_{{i}}", python_callable=remote,
                               executor="celery")
                BashOperator(task_id=f"local_{{i}}", bash_command="sleep 0.2")
        """,
    )
    engine.parse()
    run = engine.run_dag("slots", timeout=120)
    assert run.state == "success", engine.states(run)
    lines = ledger.read_text().split()
    pairs = [lines[i : i + 4] for i in range(0, len(lines), 4)]
    for start, task, end, same in pairs:
        assert (start, end, same) == ("start", "end", task), lines
    assert sorted(second.task_ids) == ["remote_0", "remote_1", "remote_2"]
    assert sorted(local.task_ids) == ["local_0", "local_1", "local_2"]


def test_clearing_a_running_task_kills_it_on_the_executor_that_runs_it(engine, executors):
    local, second = executors
    engine.add(
        "long.py",
        """
        def long(ti=None):
            import time
            if ti.try_number == 1:
                time.sleep(120)

        with DAG("long_remote", schedule=None, start_date=START):
            PythonOperator(task_id="t", python_callable=long, executor="celery")
        """,
    )
    engine.parse()
    run = engine.trigger("long_remote")
    scheduler = engine.scheduler()
    assert scheduler.run_until(lambda _r: engine.ti(run, "t").state == "running", timeout=60)
    pid = engine.ti(run, "t").pid
    do_clear(select_task_instances("long_remote", run_ids=[run.run_id]), Actor(name="e2e"))
    engine.run(run, timeout=60)
    run.refresh_from_db()
    ti = engine.ti(run, "t")
    assert (run.state, ti.state, ti.try_number, ti.executor) == ("success", "success", 2, "celery")
    assert second.task_ids == ["t", "t"] and local.task_ids == []
    wait_until(lambda: not _alive(pid), "the first try's runner to be gone")


def _alive(pid: int | None) -> bool:
    from scheduler.executors.liveness import process_alive

    return process_alive(pid, None)


@pytest.mark.local_executor  # on Celery a pod_override asks for a pod (test_celery_pods_e2e.py)
def test_a_pod_override_on_the_local_executor_runs_locally_and_its_log_says_it_was_not_used(
    engine,
):
    """Airflow's local executor drops executor_config without a word; nothing we accept may be
    ignored silently, so the try's log names what no executor read."""
    from dagruns.domain.logs import ti_log_path

    engine.add(
        "local_pod_override.py",
        """
        from kubernetes.client import models as k8s

        with DAG("local_pod_override", schedule=None, start_date=START) as dag:
            @task(executor_config={"pod_override": k8s.V1Pod(metadata=k8s.V1ObjectMeta(name="x"))})
            def here():
                return 1

            here()
        """,
    )
    engine.parse()
    run = engine.run_dag("local_pod_override", timeout=60)
    assert engine.states(run) == {"here": "success"}
    log = ti_log_path(engine.ti(run, "here")).read_text()
    assert "executor_config ['pod_override'] is not used: this try runs as a local process" in log
