"""Deferrable cross-DAG waits through the real scheduler, runners, Execution API and a real
`manage.py triggerer`: ExternalTaskSensor(deferrable=True) waits on WorkflowTrigger and
TriggerDagRunOperator(wait_for_completion=True, deferrable=True) on DagStateTrigger, each
reading the other DAG's states over HTTP with the read-only token its triggerer issued; they
resume in execute_complete in the same try. Faults: the external run fails, the external DAG
does not exist, and the triggerer restarts (with tokens that expire meanwhile) while they wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from dagruns.domain.logs import ti_log_path
from dagruns.models import AuditEvent, DagRun, TaskInstance, Trigger
from tests.e2e.conftest import Engine
from tests.e2e.triggerers import start_engine_triggerer
from tests.polling import wait_until
from tests.processes import stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WHEN = datetime(2024, 3, 1, tzinfo=UTC)
RESUMED_ONCE = ["running", "deferred", "running", "success"]

DAGS = """
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.providers.standard.sensors.external_task import ExternalTaskSensor

with DAG("upstream", schedule=None, start_date=START):
    BashOperator(task_id="work", bash_command="exit 0")

with DAG("upstream_fails", schedule=None, start_date=START):
    BashOperator(task_id="work", bash_command="exit 1", retries=0)

with DAG("waiter", schedule=None, start_date=START):
    for i in range(3):
        ExternalTaskSensor(task_id=f"task_{i}", external_dag_id="upstream",
                           external_task_id="work", failed_states=["failed"],
                           poll_interval=0.2, deferrable=True)
    ExternalTaskSensor(task_id="whole_run", external_dag_id="upstream", poll_interval=0.2,
                       deferrable=True)
    TriggerDagRunOperator(task_id="trigger", trigger_dag_id="upstream",
                          trigger_run_id="from_waiter_{{ run_id }}", logical_date=None,
                          wait_for_completion=True, poke_interval=0.2, deferrable=True)

with DAG("waiter_of_failure", schedule=None, start_date=START):
    ExternalTaskSensor(task_id="sensor", external_dag_id="upstream_fails",
                       failed_states=["failed"], poll_interval=0.2, deferrable=True, retries=0)
    TriggerDagRunOperator(task_id="trigger", trigger_dag_id="upstream_fails",
                          trigger_run_id="from_waiter", logical_date=None,
                          wait_for_completion=True, poke_interval=0.2, deferrable=True,
                          retries=0)

with DAG("ghost_waiter", schedule=None, start_date=START):
    ExternalTaskSensor(task_id="checks", external_dag_id="ghost", check_existence=True,
                       poll_interval=0.2, deferrable=True, retries=0)
    ExternalTaskSensor(task_id="waits", external_dag_id="ghost", poll_interval=0.2, timeout=2,
                       deferrable=True, retries=0)
"""


@pytest.fixture
def dags(engine: Engine) -> Engine:
    engine.add("cross_dag.py", DAGS)
    engine.parse()
    return engine


@pytest.fixture
def triggerer(dags: Engine, live_server, orch_settings) -> Iterator[Callable[..., object]]:
    """Starts `manage.py triggerer` processes for the test (each stopped after it)."""
    procs = []

    def start(**extra: str):
        proc = start_engine_triggerer(dags, live_server, orch_settings, **extra)
        procs.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in procs:
            stop(proc)


def events(run: DagRun, task_id: str) -> list[str]:
    rows = AuditEvent.objects.filter(run_id=run.run_id, task_id=task_id).order_by("pk")
    return list(rows.values_list("event", flat=True))


def deferred_and_started(run: DagRun, count: int) -> bool:
    """`count` task instances of `run` deferred, their triggers leased by a triggerer."""
    deferred = TaskInstance.objects.filter(dag_run=run, state="deferred")
    held = Trigger.objects.filter(pk__in=deferred.values("trigger_id"), triggerer_id__isnull=False)
    return deferred.count() == count and held.count() == count


def test_deferred_cross_dag_waits_resume_once_after_the_triggerer_restarts(dags, triggerer):
    # Tokens live 6 s (renewed every 3 s): the triggers read with renewed ones at the end.
    ttl = {"ORCH_EXECUTION_API_TOKEN_TTL": "6"}
    first = triggerer(**ttl)
    waiter = dags.trigger("waiter", logical_date=WHEN)
    scheduler = dags.scheduler()
    # The sensors wait for a run that does not exist yet; the operator's run ran or runs.
    assert scheduler.run_until(
        lambda _r: deferred_and_started(waiter, 4) or deferred_and_started(waiter, 5),
        timeout=120,
    ), dags.describe([waiter.pk])
    stop(first)
    second = triggerer(**ttl)
    wait_until(lambda: deferred_and_started(waiter, 4) or deferred_and_started(waiter, 5),
               "the new triggerer holds every trigger", timeout=60)  # fmt: skip
    started = time.monotonic()
    wait_until(lambda: time.monotonic() - started > 7, "the first tokens expired", timeout=15)
    upstream = dags.trigger("upstream", logical_date=WHEN)
    dags.run(waiter, upstream, timeout=180)
    assert second.poll() is None, "the triggerer died"
    assert set(dags.states(waiter).values()) == {"success"}, dags.states(waiter)
    for task_id in ("task_0", "task_1", "task_2", "whole_run"):
        assert dags.ti(waiter, task_id).try_number == 1
        assert events(waiter, task_id) == RESUMED_ONCE, task_id
    assert events(waiter, "trigger")[-1] == "success"
    triggered = DagRun.objects.get(dag_id="upstream", run_id=f"from_waiter_{waiter.run_id}")
    assert triggered.state == "success"
    assert not Trigger.objects.exists()


def test_a_failed_external_run_fails_the_deferred_sensor_and_operator_naming_the_state(
    dags, triggerer
):
    triggerer()
    waiter = dags.trigger("waiter_of_failure", logical_date=WHEN)
    upstream = dags.trigger("upstream_fails", logical_date=WHEN)
    dags.run(waiter, upstream, timeout=180)
    assert dags.states(waiter) == {"sensor": "failed", "trigger": "failed"}
    sensor_log = ti_log_path(dags.ti(waiter, "sensor")).read_text()
    assert (
        "ExternalDagFailedError: External job has failed: DAG upstream_fails reached one of "
        "the failed states ['failed']" in sensor_log
    )
    operator_log = ti_log_path(dags.ti(waiter, "trigger")).read_text()
    assert (
        "upstream_fails failed with failed states ['failed'] for run_ids ['from_waiter']"
        in operator_log
    )
    for task_id in ("sensor", "trigger"):
        assert events(waiter, task_id)[:3] == ["running", "deferred", "running"], task_id


def test_a_deferred_sensor_over_a_missing_dag_fails_at_once_or_waits_to_its_timeout(
    dags, triggerer
):
    triggerer()
    run = dags.trigger("ghost_waiter", logical_date=WHEN)
    dags.run(run, timeout=180)
    assert dags.states(run) == {"checks": "failed", "waits": "failed"}
    checks_log = ti_log_path(dags.ti(run, "checks")).read_text()
    assert "ExternalDagNotFoundError: The external DAG ghost does not exist." in checks_log
    assert "deferred" not in events(run, "checks")
    assert events(run, "waits")[:3] == ["running", "deferred", "running"]
    assert "AirflowSensorTimeout" in ti_log_path(dags.ti(run, "waits")).read_text()
