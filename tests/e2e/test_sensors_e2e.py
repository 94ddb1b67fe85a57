"""Sensors end to end: poke mode, reschedule mode, timeouts, soft_fail and the standard
sensors, through the real processor, scheduler, runners and Execution API."""

from __future__ import annotations

import json

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.task_instances import do_clear_run
from dagruns.models import DagRun, Pool, TaskInstance, TaskInstanceHistory, TaskReschedule, XCom

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.executor_sensitive
def test_a_poke_mode_sensor_waits_in_one_try_and_pushes_its_value(engine, tmp_path):
    flag = tmp_path / "flag"
    engine.add(
        "poke_sensor.py",
        f"""
        from pathlib import Path
        from airflow.sdk import BaseSensorOperator, PokeReturnValue

        class CountingSensor(BaseSensorOperator):
            def poke(self, context):
                # Done on the third poke; the count lives in a file, the pokes in one process.
                path = Path({str(flag)!r})
                count = int(path.read_text()) + 1 if path.exists() else 1
                path.write_text(str(count))
                return PokeReturnValue(is_done=count >= 3, xcom_value=count)

        with DAG("poke_sensor", schedule=None, start_date=START) as dag:
            CountingSensor(task_id="wait", poke_interval=0.2) >> EmptyOperator(task_id="after")
        """,
    )
    engine.parse()
    run = engine.run_dag("poke_sensor")
    assert engine.states(run) == {"wait": "success", "after": "success"}
    ti = engine.ti(run, "wait")
    assert ti.try_number == 1
    assert flag.read_text() == "3"
    assert XCom.objects.get(dag_run=run, task_id="wait", key="return_value").value == 3


def test_a_sensor_timing_out_fails_without_using_its_retries(engine):
    engine.add(
        "timeout_sensor.py",
        """
        from airflow.sensors.base import BaseSensorOperator

        class Never(BaseSensorOperator):
            def poke(self, context):
                return False

        with DAG("timeout_sensor", schedule=None, start_date=START) as dag:
            Never(task_id="wait", poke_interval=0.2, timeout=1, retries=3,
                  retry_delay=timedelta(seconds=0))
        """,
    )
    engine.parse()
    run = engine.run_dag("timeout_sensor")
    ti = engine.ti(run, "wait")
    assert (ti.state, ti.try_number, run.state) == ("failed", 1, "failed")


def test_a_soft_fail_sensor_timing_out_is_skipped(engine):
    engine.add(
        "soft_sensor.py",
        """
        from airflow.sdk import BaseSensorOperator

        class Never(BaseSensorOperator):
            def poke(self, context):
                return False

        with DAG("soft_sensor", schedule=None, start_date=START) as dag:
            Never(task_id="wait", poke_interval=0.2, timeout=1, soft_fail=True)
        """,
    )
    engine.parse()
    run = engine.run_dag("soft_sensor")
    assert engine.states(run) == {"wait": "skipped"}
    assert run.state == "success"


def test_a_sensor_raising_inside_poke_fails_and_is_retried_like_any_task(engine):
    engine.add(
        "raising_sensor.py",
        """
        @task.sensor(poke_interval=0.2, retries=1, retry_delay=timedelta(seconds=0))
        def broken():
            raise ValueError("the poke itself is broken")

        with DAG("raising_sensor", schedule=None, start_date=START) as dag:
            broken()
        """,
    )
    engine.parse()
    run = engine.run_dag("raising_sensor")
    ti = engine.ti(run, "broken")
    assert (ti.state, ti.try_number) == ("failed", 2)
    states = TaskInstanceHistory.objects.filter(task_instance=ti).order_by("try_number")
    assert [h.state for h in states] == ["up_for_retry", "failed"]


# A reschedule-mode sensor whose pokes append the context's try_number and
# task_reschedule_count to a JSON-lines file, and that is done once `flag` exists.
LOGGING_SENSOR = """
import json
from pathlib import Path
from airflow.sdk import BaseSensorOperator, PokeReturnValue

class FlagSensor(BaseSensorOperator):
    def __init__(self, *, flag, log, **kwargs):
        super().__init__(**kwargs)
        self.flag, self.log_path = flag, log

    def poke(self, context):
        with open(self.log_path, "a") as out:
            out.write(json.dumps([context["try_number"], context["task_reschedule_count"]]) + "\\n")
        return PokeReturnValue(Path(self.flag).exists(), xcom_value="found")
"""


def pokes(log) -> list[list[int]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.executor_sensitive
def test_a_reschedule_sensor_frees_its_pool_slot_while_it_waits(engine, tmp_path):
    flag, log = tmp_path / "flag", tmp_path / "pokes"
    Pool.objects.create(name="single", slots=1)
    engine.add(
        "frees_slot.py",
        LOGGING_SENSOR
        + f"""
with DAG("frees_slot", schedule=None, start_date=START) as dag:
    # The sensor goes first (priority) and holds the pool's only slot while it runs: the
    # writer it waits for can only run while the sensor is up_for_reschedule.
    FlagSensor(task_id="wait", flag={str(flag)!r}, log={str(log)!r}, mode="reschedule",
               poke_interval=0.5, pool="single", priority_weight=10)
    BashOperator(task_id="writer", bash_command="touch {flag}", pool="single")
""",
    )
    engine.parse()
    run = engine.run_dag("frees_slot")
    assert engine.states(run) == {"wait": "success", "writer": "success"}
    sensor = engine.ti(run, "wait")
    assert sensor.try_number == 1
    seen = pokes(log)
    reschedules = TaskReschedule.objects.filter(task_instance=sensor).order_by("id")
    assert len(seen) >= 2
    assert reschedules.count() == len(seen) - 1
    # One try throughout, and the context counts the reschedules so far.
    assert seen == [[1, n] for n in range(len(seen))]
    assert all(r.try_number == 1 for r in reschedules)
    for r in reschedules:
        assert r.start_date <= r.end_date < r.reschedule_date
    assert XCom.objects.get(dag_run=run, task_id="wait", key="return_value").value == "found"
    # Only the final run of the try is a finished try in the history.
    history = TaskInstanceHistory.objects.filter(task_instance=sensor)
    assert list(history.values_list("try_number", "state")) == [(1, "success")]


@pytest.mark.executor_sensitive
def test_a_reschedule_sensor_times_out_across_reschedules_and_fails_without_retry(engine, tmp_path):
    log = tmp_path / "pokes"
    engine.add(
        "resched_timeout.py",
        LOGGING_SENSOR
        + f"""
with DAG("resched_timeout", schedule=None, start_date=START) as dag:
    FlagSensor(task_id="wait", flag="/nonexistent/flag", log={str(log)!r}, mode="reschedule",
               poke_interval=0.3, timeout=1.5, retries=2, retry_delay=timedelta(seconds=0))
""",
    )
    engine.parse()
    run = engine.run_dag("resched_timeout")
    sensor = engine.ti(run, "wait")
    assert (sensor.state, sensor.try_number, run.state) == ("failed", 1, "failed")
    rows = TaskReschedule.objects.filter(task_instance=sensor).order_by("id")
    # Each run of the try is a fresh process: only the first reschedule's start, kept in the
    # database, can have told the last one that 1.5 s had passed.
    assert rows.count() >= 1
    assert len(pokes(log)) == rows.count() + 1
    assert (sensor.end_date - rows.first().start_date).total_seconds() > 1.5


@pytest.mark.executor_sensitive
def test_a_soft_fail_reschedule_sensor_timing_out_is_skipped(engine, tmp_path):
    log = tmp_path / "pokes"
    engine.add(
        "resched_soft.py",
        LOGGING_SENSOR
        + f"""
with DAG("resched_soft", schedule=None, start_date=START) as dag:
    FlagSensor(task_id="wait", flag="/nonexistent/flag", log={str(log)!r}, mode="reschedule",
               poke_interval=0.3, timeout=1, soft_fail=True)
""",
    )
    engine.parse()
    run = engine.run_dag("resched_soft")
    assert engine.states(run) == {"wait": "skipped"}
    assert run.state == "success"


@pytest.mark.executor_sensitive
def test_clearing_a_run_while_its_sensor_waits_for_its_reschedule(engine, tmp_path):
    flag, log = tmp_path / "flag", tmp_path / "pokes"
    engine.add(
        "clear_waiting.py",
        LOGGING_SENSOR
        + f"""
with DAG("clear_waiting", schedule=None, start_date=START) as dag:
    FlagSensor(task_id="wait", flag={str(flag)!r}, log={str(log)!r}, mode="reschedule",
               poke_interval=3600) >> EmptyOperator(task_id="after")
""",
    )
    engine.parse()
    run = engine.trigger("clear_waiting")

    def sensor_waits(_report) -> bool:
        return TaskInstance.objects.filter(
            dag_run=run, task_id="wait", state="up_for_reschedule"
        ).exists()

    assert engine.scheduler().run_until(sensor_waits, timeout=60)
    flag.touch()
    do_clear_run("clear_waiting", run.run_id, Actor(name="e2e"))
    sensor = engine.ti(run, "wait")
    assert (sensor.state, sensor.next_retry_at) == (None, None)
    # Not an hour later: the cleared sensor is a new try, scheduled at once, and finds the flag.
    engine.run(run)
    run.refresh_from_db()
    assert run.state == "success"
    sensor.refresh_from_db()
    assert (sensor.state, sensor.try_number) == ("success", 2)
    assert pokes(log) == [[1, 0], [2, 0]]
    assert list(
        TaskInstanceHistory.objects.filter(task_instance=sensor)
        .order_by("try_number")
        .values_list("try_number", "state")
    ) == [(1, "up_for_reschedule"), (2, "success")]
    assert DagRun.objects.get(pk=run.pk).state == "success"


def test_python_and_file_sensors_from_airflow_paths_wait_for_a_file(engine, tmp_path):
    from dagruns.actions.connections import do_create_connection

    data = tmp_path / "data"
    data.mkdir()
    do_create_connection(
        "landing", {"conn_type": "fs", "extra": json.dumps({"path": str(data)})}, Actor(name="e2e")
    )
    engine.add(
        "file_sensors.py",
        f"""
        import os
        from airflow.providers.standard.sensors.filesystem import FileSensor
        from airflow.providers.standard.sensors.python import PythonSensor

        with DAG("file_sensors", schedule=None, start_date=START) as dag:
            file = FileSensor(task_id="file", fs_conn_id="landing", filepath="{{{{ ds }}}}/*.csv",
                              mode="reschedule", poke_interval=0.3)
            python = PythonSensor(task_id="python", poke_interval=0.3, mode="reschedule",
                                  python_callable=lambda: os.path.exists({str(data / "ready")!r}))
            BashOperator(task_id="land", bash_command="mkdir -p {data}/{{{{ ds }}}} && "
                         "touch {data}/{{{{ ds }}}}/rows.csv {data}/ready")
            [file, python] >> EmptyOperator(task_id="after")
        """,
    )
    engine.parse()
    run = engine.run_dag("file_sensors")
    assert engine.states(run) == {
        "file": "success",
        "python": "success",
        "land": "success",
        "after": "success",
    }
    assert engine.ti(run, "file").rendered_fields["filepath"].endswith("/*.csv")


def test_an_external_task_sensor_waits_for_another_dags_task_of_the_same_logical_date(engine):
    from datetime import UTC, datetime

    engine.add(
        "upstream_dag.py",
        """
        with DAG("upstream_dag", schedule=None, start_date=START) as dag:
            BashOperator(task_id="produce", bash_command="sleep 1")
        """,
    )
    engine.add(
        "downstream_dag.py",
        """
        from airflow.sensors.external_task import ExternalTaskSensor

        with DAG("downstream_dag", schedule=None, start_date=START) as dag:
            ExternalTaskSensor(task_id="wait_task", external_dag_id="upstream_dag",
                               external_task_id="produce", mode="reschedule", poke_interval=0.3)
            ExternalTaskSensor(task_id="wait_run", external_dag_id="upstream_dag",
                               poke_interval=0.3)
            ExternalTaskSensor(task_id="wait_yesterday", external_dag_id="upstream_dag",
                               execution_delta=timedelta(days=1), external_task_id="produce",
                               soft_fail=True, timeout=1, poke_interval=0.3)
        """,
    )
    engine.parse()
    logical = datetime(2024, 5, 1, tzinfo=UTC)
    waiting = engine.trigger("downstream_dag", logical_date=logical)
    upstream = engine.trigger("upstream_dag", logical_date=logical)
    engine.run(waiting, upstream)
    waiting.refresh_from_db()
    assert engine.states(waiting) == {
        "wait_task": "success",
        "wait_run": "success",
        # No upstream run a day earlier: it times out, skipped by soft_fail.
        "wait_yesterday": "skipped",
    }
    assert engine.ti(upstream, "produce").end_date <= engine.ti(waiting, "wait_task").end_date


def test_an_external_task_sensor_fails_when_the_other_task_failed(engine):
    from datetime import UTC, datetime

    engine.add(
        "breaks.py",
        """
        with DAG("breaks", schedule=None, start_date=START) as dag:
            BashOperator(task_id="produce", bash_command="exit 1")
        """,
    )
    engine.add(
        "watches.py",
        """
        from airflow.providers.standard.sensors.external_task import ExternalTaskSensor

        with DAG("watches", schedule=None, start_date=START) as dag:
            ExternalTaskSensor(task_id="wait", external_dag_id="breaks", external_task_id="produce",
                               failed_states=["failed"], poke_interval=0.3)
        """,
    )
    engine.parse()
    logical = datetime(2024, 5, 1, tzinfo=UTC)
    breaks = engine.trigger("breaks", logical_date=logical)
    engine.run(breaks)
    watches = engine.run_dag("watches", logical_date=logical)
    assert engine.states(watches) == {"wait": "failed"}


@pytest.mark.executor_sensitive
def test_mapped_reschedule_sensors_each_wait_for_their_own_file(engine, tmp_path):
    engine.add(
        "mapped_sensors.py",
        f"""
        import os
        from airflow.sdk import PokeReturnValue

        @task.sensor(mode="reschedule", poke_interval=0.3, timeout=60)
        def wait_for(name):
            found = os.path.exists(os.path.join({str(tmp_path)!r}, name))
            if not found:
                open(os.path.join({str(tmp_path)!r}, "missed_" + name), "w").close()
            return PokeReturnValue(found, xcom_value=name)

        with DAG("mapped_sensors", schedule=None, start_date=START) as dag:
            waited = wait_for.expand(name=["a", "b"])
            # The files appear only once both sensors found nothing at least once.
            BashOperator(
                task_id="touch",
                bash_command="cd {tmp_path} && until [ -e missed_a ] && [ -e missed_b ]; "
                "do sleep 0.1; done; touch a b",
            )
        """,
    )
    engine.parse()
    run = engine.run_dag("mapped_sensors")
    sensors = TaskInstance.objects.filter(dag_run=run, task_id="wait_for").order_by("map_index")
    assert [(ti.map_index, ti.state, ti.try_number) for ti in sensors] == [
        (0, "success", 1),
        (1, "success", 1),
    ]
    assert all(TaskReschedule.objects.filter(task_instance=ti).exists() for ti in sensors)
