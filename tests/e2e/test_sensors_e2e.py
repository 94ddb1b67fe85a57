"""Sensors end to end: poke mode, reschedule mode, timeouts, soft_fail and the standard
sensors, through the real processor, scheduler, runners and Execution API."""

from __future__ import annotations

import pytest

from dagruns.models import TaskInstanceHistory, XCom

pytestmark = pytest.mark.django_db(transaction=True)


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
