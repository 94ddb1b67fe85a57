"""A reschedule-mode sensor over the Execution API: PATCH state up_for_reschedule, the
reschedule count in the claim and GET /task-reschedules/{id}/start_date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dagruns.models import AuditEvent, TaskInstanceHistory, TaskReschedule
from dagruns.models.states import ti_transition_allowed
from tests.builders import queue, set_state
from tests.dagruns.api.conftest import Runner

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_orch_dirs")]

START = datetime(2024, 1, 2, 10, 0, tzinfo=UTC)
END = START + timedelta(seconds=3)
AGAIN = START + timedelta(minutes=5)


def reschedule(runner: Runner, when: datetime = AGAIN, end: datetime = END):
    return runner.finish(
        "up_for_reschedule", reschedule_date=when.isoformat(), end_date=end.isoformat()
    )


def test_up_for_reschedule_keeps_the_try_and_records_a_reschedule_row(runner):
    assert runner.run(start_date=START.isoformat()).status_code == 200

    response = reschedule(runner)

    assert response.status_code == 200
    assert response.json() == {"state": "up_for_reschedule"}
    ti = runner.ti
    ti.refresh_from_db()
    assert (ti.state, ti.try_number, ti.next_retry_at) == ("up_for_reschedule", 1, AGAIN)
    row = TaskReschedule.objects.get(task_instance=ti)
    assert (row.try_number, row.start_date, row.end_date, row.duration) == (1, START, END, 3.0)
    assert row.reschedule_date == AGAIN
    # Not a finished try: no history row yet.
    assert not TaskInstanceHistory.objects.filter(task_instance=ti).exists()
    assert AuditEvent.objects.filter(event="up_for_reschedule", task_id=ti.task_id).exists()


def test_the_next_claim_of_the_same_try_carries_the_reschedule_count(runner):
    assert runner.run().json()["task_reschedule_count"] == 0
    assert reschedule(runner).status_code == 200
    queue(runner.ti, try_number=1)  # the scheduler queues the same try again

    assert runner.run().json()["task_reschedule_count"] == 1


def test_start_date_is_the_first_reschedules_start(runner):
    assert runner.run(start_date=START.isoformat()).status_code == 200
    assert reschedule(runner).status_code == 200
    queue(runner.ti, try_number=1)
    assert runner.run(start_date=AGAIN.isoformat()).status_code == 200

    response = runner.call("get", f"task-reschedules/{runner.ti.id}/start_date", try_number=1)

    assert response.status_code == 200
    assert datetime.fromisoformat(response.json()) == START


def test_start_date_is_null_before_any_reschedule(running):
    response = running.call("get", f"task-reschedules/{running.ti.id}/start_date")
    assert (response.status_code, response.json()) == (200, None)


def test_start_date_counts_only_from_the_given_try(running):
    assert reschedule(running).status_code == 200
    queue(running.ti, try_number=1)
    assert running.run().status_code == 200
    response = running.call("get", f"task-reschedules/{running.ti.id}/start_date", try_number=2)
    assert response.json() is None


def test_start_date_of_another_task_instance_is_forbidden(running, dag_run):
    other = dag_run.task_instances.exclude(pk=running.ti.pk).first()
    response = running.call("get", f"task-reschedules/{other.pk}/start_date")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"state": "up_for_reschedule"}, "reschedule_date is required"),
        (
            {"state": "success", "reschedule_date": AGAIN.isoformat()},
            "reschedule_date is only for state up_for_reschedule",
        ),
        ({"state": "up_for_reschedule", "reschedule_date": "tomorrow"}, "reschedule_date"),
    ],
)
def test_a_bad_reschedule_body_is_422_naming_the_problem(running, body, problem):
    response = running.call("patch", f"task-instances/{running.ti.id}/state", body)
    assert response.status_code == 422
    assert problem in response.content.decode()
    running.ti.refresh_from_db()
    assert running.ti.state == "running"


@pytest.mark.parametrize("state", ["queued", "success", "up_for_reschedule"])
def test_reschedule_is_refused_unless_running(runner, state):
    set_state(runner.ti, state)
    response = reschedule(runner)
    assert response.status_code == 409
    assert response.json()["detail"]["previous_state"] == state
    assert not TaskReschedule.objects.exists()


def test_the_transition_table_allows_what_a_reschedule_needs():
    assert ti_transition_allowed("running", "up_for_reschedule", manual=False)
    assert ti_transition_allowed("up_for_reschedule", "scheduled", manual=False)
    assert ti_transition_allowed("up_for_reschedule", None, manual=True)
