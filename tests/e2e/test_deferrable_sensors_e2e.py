"""Deferrable sensors through the real scheduler, runner and a real triggerer: the sensor's
try ends deferred, its trigger fires, and the same try resumes and succeeds; a TimeDeltaSensor
whose deferral outlives its `timeout` fails as a sensor timeout (skipped under soft_fail)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dagruns.domain.logs import ti_log_path
from dagruns.models import AuditEvent, Connection, TaskInstance
from tests.e2e.conftest import Engine
from tests.e2e.triggerers import start_engine_triggerer
from tests.processes import stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DAG = """
from airflow.providers.standard.sensors.date_time import DateTimeSensor
from airflow.providers.standard.sensors.filesystem import FileSensor
from airflow.providers.standard.sensors.time_delta import TimeDeltaSensorAsync

with DAG("deferrable_sensors", schedule=None, start_date=START):
    at = DateTimeSensor(
        task_id="at",
        target_time="{{ (dag_run.run_after + macros.timedelta(seconds=2)).isoformat() }}",
        deferrable=True,
    )
    delta = TimeDeltaSensorAsync(task_id="delta", delta=timedelta(seconds=2))
    arrives = FileSensor(task_id="arrives", filepath="inbox/*.csv", deferrable=True,
                         poke_interval=0.2)
    # Airflow passes a TimeDeltaSensor's timeout to defer(): an hour's wait ends after 1 s,
    # failed without using its retry (a sensor timeout), or skipped under soft_fail.
    bounded = TimeDeltaSensorAsync(task_id="bounded", delta=timedelta(hours=1), timeout=1,
                                   retries=1)
    bounded_soft = TimeDeltaSensorAsync(task_id="bounded_soft", delta=timedelta(hours=1),
                                        timeout=1, soft_fail=True)
"""


@pytest.fixture
def triggerer(engine: Engine, live_server, orch_settings) -> Iterator[None]:
    proc = start_engine_triggerer(engine, live_server, orch_settings)
    try:
        yield
    finally:
        stop(proc)


def test_deferrable_sensors_wait_in_the_triggerer_and_resume_in_the_same_try(
    engine, triggerer, tmp_path
):
    inbox = tmp_path / "files"
    (inbox / "inbox").mkdir(parents=True)
    fs = Connection(conn_id="fs_default", conn_type="fs")
    fs.extra = {"path": str(inbox)}
    fs.save()
    engine.add("deferrable_sensors.py", DAG)
    engine.parse()
    run = engine.trigger("deferrable_sensors")
    scheduler = engine.scheduler()
    assert scheduler.run_until(
        lambda _r: TaskInstance.objects.filter(
            dag_run=run, task_id="arrives", state="deferred"
        ).exists(),
        timeout=120,
    ), engine.describe([run.pk])
    (inbox / "inbox" / "data.csv").write_text("a,b\n")
    engine.run(run, timeout=120)
    assert engine.states(run) == {
        "at": "success",
        "delta": "success",
        "arrives": "success",
        "bounded": "failed",
        "bounded_soft": "skipped",
    }
    bounded = engine.ti(run, "bounded")
    assert bounded.try_number == 1
    assert "AirflowSensorTimeout: Trigger/execution timeout" in ti_log_path(bounded).read_text()
    assert engine.ti(run, "delta").try_number == 1  # deferred, or already past its time
    for task_id in ("at", "arrives"):  # these defer whatever the time
        assert engine.ti(run, task_id).try_number == 1
        events = AuditEvent.objects.filter(run_id=run.run_id, task_id=task_id)
        assert list(events.order_by("pk").values_list("event", flat=True)) == [
            "running", "deferred", "running", "success",
        ]  # fmt: skip
