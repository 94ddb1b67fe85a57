"""The task-instance page lists a reschedule-mode sensor's reschedules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dagruns.models import TaskInstance, TaskReschedule
from dagruns.views import task_instance as ti_view
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.django_db

WHEN = datetime(2024, 1, 2, 10, 0, tzinfo=UTC)


def _sensor_page(viewer, reschedules: int) -> str:
    dag = store_dag("sensing", {"wait": []})
    add_run(dag, states={"wait": "up_for_reschedule"})
    ti = TaskInstance.objects.get(task_id="wait")
    for n in range(reschedules):
        start = WHEN + timedelta(minutes=n)
        TaskReschedule.objects.create(
            task_instance=ti,
            try_number=1,
            start_date=start,
            end_date=start + timedelta(seconds=2),
            duration=2.0,
            reschedule_date=start + timedelta(minutes=1),
        )
    response = viewer.get(f"/dags/sensing/runs/{ti.run_id}/tasks/wait")
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_lists_the_reschedules(viewer):
    html = _sensor_page(viewer, 3)
    assert "Reschedules" in html
    assert html.count("<tr><td>1</td>") >= 3
    assert "up_for_reschedule" in html


def test_only_the_latest_reschedules_are_listed(viewer, monkeypatch):
    monkeypatch.setattr(ti_view, "RESCHEDULES_SHOWN", 2)
    html = _sensor_page(viewer, 5)
    assert "The latest 2 of 5." in html


def test_a_task_never_rescheduled_has_no_reschedules_section(viewer):
    assert "Reschedules" not in _sensor_page(viewer, 0)
