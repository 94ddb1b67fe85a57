"""The Celery executor end to end: real DAG files, the real scheduler with a CeleryExecutor,
a private redis-server, real `manage.py celery worker` processes (no database settings) and the
Execution API over real HTTP. Faults: a worker SIGKILLed mid-task, a worker's warm shutdown,
Redis restarted while tries wait in the queue and while they run, a duplicate message, a queue
no worker serves. Side effects are counted in a ledger file: every try's work appears once.
"""

# ruff: noqa: F811 (pytest fixtures imported by name, then requested as arguments)

from __future__ import annotations

import os
import re
import signal
from collections import Counter
from pathlib import Path

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.runs import do_trigger_dag
from dagruns.actions.waiting import why_waiting
from dagruns.models import (
    DagImportError,
    DagModel,
    DagRun,
    Job,
    TaskInstance,
    TaskInstanceHistory,
)
from dagruns.models.states import DAGRUN_FINISHED
from scheduler.processor.loop import DagProcessor
from scheduler.scheduling.queueing import workload_for
from tests.brokers import redis_server  # noqa: F401
from tests.celery_workers import Worker, celery_server_env, running_workers
from tests.e2e.conftest import HEADER, Engine, configure_engine
from tests.polling import wait_until
from tests.processes import free_port, start_api_server, start_scheduler, stop

pytestmark = pytest.mark.django_db(transaction=True)

LEDGER_TASK = """
def record(ti=None, seconds=0.0):
    import os, time
    with open({ledger!r}, "a") as f:
        f.write(f"start {{ti.task_id}} {{ti.try_number}} {{os.getpid()}}\\n")
    time.sleep(seconds)
    with open({ledger!r}, "a") as f:
        f.write(f"done {{ti.task_id}} {{ti.try_number}}\\n")
"""


@pytest.fixture
def cluster(live_server, dags_folder, orch_settings, tmp_path, redis_server):
    """An engine on the Celery executor and two workers (w1, w2: two pool processes each)."""
    configure_engine(orch_settings, live_server.url, tmp_path, broker_url=redis_server.url)
    engine = Engine(dags_folder, executor="celery")
    workers = [Worker(redis_server.url, f"w{i}@test", tmp_path / f"worker{i}.log") for i in (1, 2)]
    try:
        with running_workers(workers):
            yield engine, workers, redis_server
    finally:
        engine.close()


def ledger_of(path: Path) -> list[tuple[str, str, int]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        kind, task_id, try_number, *_ = line.split()
        rows.append((kind, task_id, int(try_number)))
    return rows


def assert_each_try_ran_once(path: Path) -> None:
    counts = Counter(ledger_of(path))
    doubled = {row: n for row, n in counts.items() if n > 1}
    assert not doubled, f"ran more than once: {doubled}"


def add_ledger_dag(engine: Engine, ledger: Path, dag_id: str, body: str) -> None:
    engine.add(f"{dag_id}.py", LEDGER_TASK.format(ledger=str(ledger)) + body)
    engine.parse()


def test_tries_run_on_the_workers_and_record_the_worker_that_ran_them(cluster, tmp_path):
    engine, workers, _redis = cluster
    ledger = tmp_path / "ledger"
    add_ledger_dag(
        engine,
        ledger,
        "spread",
        """
with DAG("spread", schedule=None, start_date=START) as dag:
    for i in range(4):
        PythonOperator(task_id=f"t{i}", python_callable=record, op_kwargs={"seconds": 0.3})
""",
    )
    run = engine.run_dag("spread", timeout=90)
    assert run.state == "success", engine.describe([run.pk])
    hosts = set(TaskInstance.objects.filter(dag_run=run).values_list("hostname", flat=True))
    assert hosts <= {"w1@test", "w2@test"}, hosts
    assert Counter(kind for kind, _t, _n in ledger_of(ledger)) == {"start": 4, "done": 4}
    assert_each_try_ran_once(ledger)


def test_a_duplicate_message_for_a_started_try_is_dropped_at_the_claim(cluster, tmp_path):
    engine, _workers, _redis = cluster
    ledger = tmp_path / "ledger"
    add_ledger_dag(
        engine,
        ledger,
        "dup",
        """
with DAG("dup", schedule=None, start_date=START) as dag:
    PythonOperator(task_id="t", python_callable=record, op_kwargs={"seconds": 2})
""",
    )
    run = engine.trigger("dup")
    scheduler = engine.scheduler()
    assert scheduler.run_until(lambda _r: engine.ti(run, "t").state == "running", timeout=60)
    ti = TaskInstance.objects.select_related("dag_run").get(dag_run=run, task_id="t")
    # A second message for the same try (a redelivery, or a re-send racing a slow worker).
    scheduler.executor.queue(workload_for(ti))
    engine.run(run, timeout=60)
    ti.refresh_from_db()
    assert (ti.state, ti.try_number) == ("success", 1)
    assert ledger_of(ledger).count(("start", "t", 1)) == 1
    assert_each_try_ran_once(ledger)


def test_a_worker_killed_mid_task_fails_the_try_by_heartbeat_and_it_is_retried_elsewhere(
    cluster, tmp_path, orch_settings
):
    engine, workers, _redis = cluster
    orch_settings.task_heartbeat_timeout = 4
    ledger = tmp_path / "ledger"
    add_ledger_dag(
        engine,
        ledger,
        "lost",
        """
def first_try_hangs(ti=None):
    record(ti, 120 if ti.try_number == 1 else 0)

with DAG("lost", schedule=None, start_date=START) as dag:
    PythonOperator(task_id="t", python_callable=first_try_hangs, retries=1,
                   retry_delay=timedelta(seconds=0))
""",
    )
    run = engine.trigger("lost")
    scheduler = engine.scheduler()
    assert scheduler.run_until(lambda _r: ("start", "t", 1) in ledger_of(ledger), timeout=60), (
        engine.describe([run.pk])
    )
    lost_name = engine.ti(run, "t").hostname
    lost = next(w for w in workers if w.name == lost_name)
    lost.kill()  # the worker, its pool, its forkserver, the runner and the task: a host lost
    engine.run(run, timeout=90)
    ti = engine.ti(run, "t")
    assert (ti.state, ti.try_number) == ("success", 2), engine.describe([run.pk])
    assert ti.hostname != lost_name
    first = TaskInstanceHistory.objects.get(task_instance=ti, try_number=1)
    assert first.state == "up_for_retry"
    log = (Path(orch_settings.log_dir)).rglob("attempt=1.log")
    text = "".join(p.read_text() for p in log)
    assert "Detected zombie" in text and f"Celery worker {lost_name}" in text, text
    assert ledger_of(ledger).count(("done", "t", 2)) == 1
    assert ("done", "t", 1) not in ledger_of(ledger)
    assert_each_try_ran_once(ledger)


def test_a_warm_shutdown_lets_running_tries_finish_and_loses_none(cluster, tmp_path):
    engine, workers, _redis = cluster
    ledger = tmp_path / "ledger"
    add_ledger_dag(
        engine,
        ledger,
        "warm",
        """
with DAG("warm", schedule=None, start_date=START) as dag:
    for i in range(6):
        PythonOperator(task_id=f"t{i}", python_callable=record, op_kwargs={"seconds": 3})
""",
    )
    run = engine.trigger("warm")
    scheduler = engine.scheduler()
    assert scheduler.run_until(
        lambda _r: TaskInstance.objects.filter(
            dag_run=run, hostname="w1@test", state="running"
        ).exists(),
        timeout=60,
    ), engine.describe([run.pk])
    running_on_w1 = set(
        TaskInstance.objects.filter(dag_run=run, hostname="w1@test", state="running").values_list(
            "task_id", flat=True
        )
    )
    workers[0].terminate()  # SIGTERM: warm shutdown
    engine.run(run, timeout=120)
    assert workers[0].process is not None
    wait_until(lambda: workers[0].process.poll() is not None, "w1 to exit", timeout=60)
    states = engine.states(run)
    assert set(states.values()) == {"success"}, states
    for task_id in running_on_w1:  # finished where they ran, not retried elsewhere
        ti = engine.ti(run, task_id)
        assert (ti.hostname, ti.try_number) == ("w1@test", 1)
    assert Counter(kind for kind, _t, _n in ledger_of(ledger)) == {"start": 6, "done": 6}
    assert_each_try_ran_once(ledger)


def test_redis_restarted_while_tries_wait_in_the_queue_they_are_sent_again_and_run_once(
    live_server,
    dags_folder,
    orch_settings,
    tmp_path,
    redis_server,
):
    configure_engine(orch_settings, live_server.url, tmp_path, broker_url=redis_server.url)
    orch_settings.task_queued_timeout = 60
    orch_settings.task_queued_resends = 5  # a re-send every 10 s
    engine = Engine(dags_folder, executor="celery")
    ledger = tmp_path / "ledger"
    add_ledger_dag(
        engine,
        ledger,
        "lostmsg",
        """
with DAG("lostmsg", schedule=None, start_date=START) as dag:
    for i in range(3):
        PythonOperator(task_id=f"t{i}", python_callable=record)
""",
    )
    try:
        run = engine.trigger("lostmsg")
        scheduler = engine.scheduler()
        # No worker yet: the messages wait in Redis, which then loses them.
        assert scheduler.run_until(
            lambda _r: TaskInstance.objects.filter(dag_run=run, state="queued").count() == 3,
            timeout=60,
        )
        redis_server.restart()
        worker = Worker(redis_server.url, "late@test", tmp_path / "late.log")
        with running_workers([worker]):
            engine.run(run, timeout=120)
        states = engine.states(run)
        assert set(states.values()) == {"success"}, states
        assert TaskInstance.objects.filter(dag_run=run, try_number=1).count() == 3
        assert Counter(kind for kind, _t, _n in ledger_of(ledger)) == {"start": 3, "done": 3}
        assert_each_try_ran_once(ledger)
        log = "".join(p.read_text() for p in Path(orch_settings.log_dir).rglob("*.log"))
        assert "sent again (re-send 1 of 5, ORCH_TASK_QUEUED_RESENDS)" in log
    finally:
        engine.close()


def test_redis_restarted_while_tries_run_they_finish_and_nothing_stays_queued(
    cluster, tmp_path, orch_settings
):
    engine, _workers, redis = cluster
    orch_settings.task_queued_timeout = 60
    orch_settings.task_queued_resends = 5
    ledger = tmp_path / "ledger"
    add_ledger_dag(
        engine,
        ledger,
        "restart",
        """
with DAG("restart", schedule=None, start_date=START) as dag:
    first = [PythonOperator(task_id=f"a{i}", python_callable=record, op_kwargs={"seconds": 4})
             for i in range(3)]
    after = PythonOperator(task_id="after", python_callable=record)
    first >> after
""",
    )
    run = engine.trigger("restart")
    scheduler = engine.scheduler()
    assert scheduler.run_until(
        lambda _r: sum(1 for k, _t, _n in ledger_of(ledger) if k == "start") >= 2, timeout=60
    ), engine.describe([run.pk])
    redis.restart()  # while a0..a2 run (or one of them still waits in the queue)
    engine.run(run, timeout=150)
    states = engine.states(run)
    assert set(states.values()) == {"success"}, states
    assert Counter(kind for kind, _t, _n in ledger_of(ledger)) == {"start": 4, "done": 4}
    assert_each_try_ran_once(ledger)


def test_a_task_on_a_queue_no_worker_serves_stays_queued_and_says_why(cluster, tmp_path):
    engine, workers, redis = cluster
    # A third worker serves a queue no task uses: harmless, and listed among the served queues.
    extra = Worker(redis.url, "etl@test", tmp_path / "etl.log", queues="etl,reports")
    with running_workers([extra]):
        engine.add(
            "nowhere.py",
            """
with DAG("nowhere", schedule=None, start_date=START) as dag:
    EmptyOperator(task_id="served") >> BashOperator(task_id="stuck", bash_command="true",
                                                    queue="gpu")
""",
        )
        engine.parse()
        run = engine.trigger("nowhere")
        scheduler = engine.scheduler()
        assert scheduler.run_until(
            lambda _r: engine.ti(run, "stuck").state == "queued", timeout=60
        ), engine.describe([run.pk])
        scheduler.run_until(lambda _r: False, timeout=2)  # it stays there
        ti = engine.ti(run, "stuck")
        assert ti.state == "queued"
        reasons = [r.reason for r in why_waiting(ti)]
        assert any(
            "queued on queue gpu, which no live Celery worker serves "
            "(workers serve: default, etl, reports)" in reason
            for reason in reasons
        ), reasons
        assert engine.ti(run, "served").state == "success"
        run.refresh_from_db()
        assert run.state not in DAGRUN_FINISHED


HELD_TASK = """
def held(ti=None):
    import os, time
    with open({ledger!r}, "a") as f:
        f.write(f"start {{ti.task_id}} {{ti.try_number}} {{os.getpid()}}\\n")
    while not os.path.exists({release!r}):  # until the test lets it end
        time.sleep(0.05)
    with open({ledger!r}, "a") as f:
        f.write(f"done {{ti.task_id}} {{ti.try_number}}\\n")
"""


def scheduler_job_of(process) -> Job | None:
    return Job.objects.filter(job_type="scheduler", pid=process.pid, state="running").first()


def test_a_scheduler_killed_while_a_worker_runs_its_task_is_adopted_by_the_live_one_and_the_run_finishes_under_it(
    dags_folder, orch_settings, tmp_path, redis_server
):
    """Two schedulers; the one that queued a long task is SIGKILLed while a worker runs it. The
    other adopts the try (its log names the dead scheduler), counts it in its slots, and the
    task's end is recorded once."""
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.home = tmp_path
    ledger, release = tmp_path / "ledger", tmp_path / "release"
    (dags_folder / "handover.py").write_text(
        HEADER
        + LEDGER_TASK.format(ledger=str(ledger))
        + HELD_TASK.format(ledger=str(ledger), release=str(release))
        + """
with DAG("handover", schedule=None, start_date=START) as dag:
    PythonOperator(task_id="a", python_callable=held) >> \\
        PythonOperator(task_id="b", python_callable=record)
"""
    )
    DagProcessor(timeout=30).run_once()
    assert not DagImportError.objects.exists(), list(DagImportError.objects.values())
    DagModel.objects.filter(dag_id="handover").update(is_paused=False)
    port = free_port()
    env = celery_server_env(
        tmp_path,
        port,
        redis_server.url,
        ORCH_LOG_LEVEL="INFO",
        ORCH_PARALLELISM="4",
        ORCH_ORPHANED_TASKS_CHECK_INTERVAL="0.5",
    )
    api = start_api_server(env, port)
    first = start_scheduler(env, tmp_path / "first.log")
    second = None
    second_log = tmp_path / "second.log"
    try:
        with running_workers([Worker(redis_server.url, "w@test", tmp_path / "w.log")]):
            run = do_trigger_dag("handover", Actor(name="test"))
            wait_until(
                lambda: TaskInstance.objects.filter(
                    dag_run=run, task_id="a", state="running"
                ).exists(),
                "a running on the worker",
                timeout=90,
            )
            first_job = scheduler_job_of(first)
            assert first_job is not None
            assert engine_ti(run, "a").queued_by_job_id == first_job.pk
            second = start_scheduler(env, second_log)
            wait_until(  # its first tick is done: it runs, past its recovery at start
                lambda: slots_in_use(second_log.read_text()) == "0 of 4",
                "the second scheduler's first tick",
                timeout=90,
            )
            os.killpg(first.pid, signal.SIGKILL)  # the scheduler that queued it
            first.wait(30)
            adopted = f"from dead scheduler job {first_job.pk} on "
            wait_until(lambda: adopted in second_log.read_text(), "the adoption", timeout=90)
            assert "recovered at start" not in second_log.read_text().split(adopted)[0]
            wait_until(  # the adopted try takes a slot of the adopter's ORCH_PARALLELISM
                lambda: slots_in_use(second_log.read_text().split(adopted, 1)[1]) == "1 of 4",
                "the adopted try in the second scheduler's slots",
                timeout=30,
            )
            second_job = scheduler_job_of(second)
            assert second_job is not None
            assert engine_ti(run, "a").queued_by_job_id == second_job.pk
            assert Job.objects.get(pk=first_job.pk).state == "failed"
            release.touch()
            wait_until(
                lambda: DagRun.objects.get(pk=run.pk).state in DAGRUN_FINISHED,
                "the run to finish under the second scheduler",
                timeout=120,
            )
            wait_until(
                lambda: slots_in_use(second_log.read_text()) == "0 of 4",
                "the second scheduler's slots to be free again",
                timeout=30,
            )
    finally:
        for process in (first, second, api):
            if process is not None:
                stop(process)
    run.refresh_from_db()
    assert run.state == "success"
    tis = {ti.task_id: ti for ti in TaskInstance.objects.filter(dag_run=run)}
    assert {t: (ti.state, ti.try_number) for t, ti in tis.items()} == {
        "a": ("success", 1),
        "b": ("success", 1),
    }
    # Each try's end was recorded once: one history row each, the one the runner reported.
    assert sorted(
        TaskInstanceHistory.objects.filter(task_instance__dag_run=run).values_list(
            "task_id", "try_number", "state"
        )
    ) == [("a", 1, "success"), ("b", 1, "success")]
    assert Counter(kind for kind, _t, _n in ledger_of(ledger)) == {"start": 2, "done": 2}
    assert_each_try_ran_once(ledger)


def engine_ti(run: DagRun, task_id: str) -> TaskInstance:
    return TaskInstance.objects.get(dag_run=run, task_id=task_id)


def slots_in_use(scheduler_log: str) -> str | None:
    """What the Celery executor's latest slots line says ("N of P"), if it said any."""
    said = re.findall(r"Celery executor: (\d+ of \d+) slots in use", scheduler_log)
    return said[-1] if said else None
