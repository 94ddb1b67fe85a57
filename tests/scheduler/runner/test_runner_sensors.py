"""The runner and sensors: a reschedule-mode sensor's try ends up_for_reschedule (same try,
a TaskReschedule row), a sensor's timeout fails it without retries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dagruns.models import TaskReschedule
from scheduler.runner.supervisor import EXIT_OK

pytestmark = pytest.mark.slow

HEADER = """
from datetime import datetime
from dagruns.sdk import DAG, BaseSensorOperator, PokeReturnValue

class Never(BaseSensorOperator):
    def poke(self, context):
        print("poked with", context["task_reschedule_count"], "reschedules so far")
        return False

with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
"""


def test_a_reschedule_sensor_ends_its_run_up_for_reschedule(make_try):
    t = make_try(
        HEADER + '    Never(task_id="wait", mode="reschedule", poke_interval=600)\n', "wait"
    )

    result = t.run()

    assert result.returncode == EXIT_OK, result.stderr
    ti = t.refresh()
    assert (ti.state, ti.try_number) == ("up_for_reschedule", 1)
    row = TaskReschedule.objects.get(task_instance=ti)
    assert row.try_number == 1
    # poke_interval after the poke, which happened between the run's start and end.
    assert row.start_date + timedelta(seconds=600) <= row.reschedule_date
    assert row.reschedule_date <= row.end_date + timedelta(seconds=600)
    assert ti.next_retry_at == row.reschedule_date
    log = t.log()
    assert "poked with 0 reschedules so far" in log
    assert "Marking task as UP_FOR_RESCHEDULE" in log


def test_a_sensor_timing_out_fails_without_its_retries(make_try):
    t = make_try(
        HEADER + '    Never(task_id="wait", poke_interval=0, timeout=0, retries=3)\n', "wait"
    )

    assert t.run().returncode == EXIT_OK
    assert t.refresh().state == "failed"
    assert "AirflowSensorTimeout" in t.log()
