"""The task-instance calls of the Execution API: claim, heartbeat, finish, logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from dagruns.domain.tokens import issue_token, verify_token
from dagruns.models import AuditEvent, TaskInstanceHistory
from tests.builders import make_run, queue, set_state, ti_of
from tests.dagruns.api.conftest import Runner

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_orch_dirs")]

START = datetime(2024, 1, 2, 10, 0, tzinfo=UTC)
END = START + timedelta(seconds=90)


def test_run_claims_a_queued_try_and_returns_what_the_runner_needs(runner, dag_run):
    response = runner.run(start_date=START.isoformat())

    assert response.status_code == 200
    body = response.json()
    assert body["task_instance"] == {
        "id": str(runner.ti.id),
        "dag_id": "etl",
        "run_id": dag_run.run_id,
        "task_id": "extract",
        "map_index": -1,
        "try_number": 1,
        "max_tries": 0,
        "expanded_ti_count": None,
    }
    assert body["dag_run"]["dag_id"] == "etl"
    assert body["dag_run"]["run_id"] == dag_run.run_id
    assert body["dag_run"]["run_type"] == "scheduled"
    assert body["dag_run"]["conf"] == {"source": "test"}
    assert datetime.fromisoformat(body["dag_run"]["logical_date"]) == dag_run.logical_date
    assert set(body["dag_run"]) == {
        "dag_id",
        "run_id",
        "logical_date",
        "data_interval_start",
        "data_interval_end",
        "run_after",
        "start_date",
        "run_type",
        "conf",
        "consumed_asset_events",
    }
    assert body["dag_run"]["consumed_asset_events"] == []
    assert body["dag_fileloc"] == "/dags/etl.py"
    ti = runner.ti
    ti.refresh_from_db()
    assert ti.state == "running"
    assert (ti.hostname, ti.pid, ti.start_date) == ("worker-1", 4242, START)
    assert ti.last_heartbeat_at is not None
    assert AuditEvent.objects.filter(event="running", task_id="extract", try_number=1).exists()


@pytest.mark.parametrize("state", [None, "scheduled", "running", "success", "up_for_retry"])
def test_run_is_refused_unless_queued_and_changes_nothing(runner, state):
    set_state(runner.ti, state)
    before = runner.ti.__class__.objects.values().get(pk=runner.ti.pk)

    response = runner.run()

    assert response.status_code == 409
    assert response.json()["detail"]["reason"] == "invalid_state"
    assert response.json()["detail"]["previous_state"] == state
    assert runner.ti.__class__.objects.values().get(pk=runner.ti.pk) == before


def test_a_second_claim_of_the_same_try_is_refused(running):
    """An executor that delivers a workload twice must not run the task twice."""
    second = Runner(running.ti, running.token)
    response = second.run(hostname="worker-2")
    assert response.status_code == 409
    assert response.json()["detail"]["previous_state"] == "running"
    running.ti.refresh_from_db()
    assert running.ti.hostname == "worker-1"


def test_heartbeat_of_a_running_try_records_it_and_answers_204(running):
    before = running.ti.last_heartbeat_at
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=5)):
        response = running.heartbeat()
    assert response.status_code == 204
    assert response.content == b""
    running.ti.refresh_from_db()
    assert running.ti.last_heartbeat_at > before


def test_heartbeat_after_the_try_was_cleared_is_409_so_the_runner_kills_the_task(running):
    set_state(running.ti, None)  # a clear: state none, try_number kept until rescheduled
    response = running.heartbeat()
    assert response.status_code == 409
    assert response.json()["detail"]["previous_state"] is None


def test_heartbeat_hands_back_a_fresh_token_once_half_the_lifetime_is_gone(running, orch_settings):
    orch_settings.execution_api_token_ttl = 100.0
    now = datetime.now(UTC)
    with time_machine.travel(now, tick=False):
        running.token = issue_token(running.ti.id, running.ti.try_number)
    with time_machine.travel(now + timedelta(seconds=30), tick=False):
        assert "Refreshed-API-Token" not in running.heartbeat().headers
    with time_machine.travel(now + timedelta(seconds=60), tick=False):
        response = running.heartbeat()
        assert response.status_code == 204
        fresh = verify_token(response.headers["Refreshed-API-Token"])
    assert (fresh.ti_id, fresh.try_number) == (running.ti.id, 1)
    assert fresh.expires_at == int((now + timedelta(seconds=160)).timestamp())


def test_finish_success_records_end_duration_metrics_and_rendered_fields(running):
    set_start(running, START)
    response = running.finish(
        "success",
        end_date=END.isoformat(),
        cpu_time=1.5,
        peak_memory=1024,
        rendered_fields={"bash_command": "echo 2024-01-01"},
    )
    assert response.status_code == 200
    assert response.json() == {"state": "success"}
    ti = running.ti
    ti.refresh_from_db()
    assert (ti.state, ti.end_date, ti.duration) == ("success", END, 90.0)
    assert (ti.cpu_time, ti.peak_memory) == (1.5, 1024)
    assert ti.rendered_fields == {"bash_command": "echo 2024-01-01"}
    history = TaskInstanceHistory.objects.get(task_instance=ti)
    assert (history.try_number, history.state, history.duration) == (1, "success", 90.0)
    assert history.rendered_fields == {"bash_command": "echo 2024-01-01"}


def set_start(runner: Runner, start: datetime) -> None:
    runner.ti.__class__.objects.filter(pk=runner.ti.pk).update(start_date=start)


def retrying_runner(settings: dict) -> Runner:
    run = make_run(
        dag_id="flaky", edges={"call_api": []}, settings={"call_api": {"retries": 2, **settings}}
    )
    runner = Runner(queue(ti_of(run, "call_api")))
    assert runner.run().status_code == 200
    return runner


def test_failed_try_with_retries_left_is_up_for_retry_after_retry_delay():
    runner = retrying_runner({"retry_delay": 30.0})
    response = runner.finish("failed", end_date=END.isoformat())
    assert response.json() == {"state": "up_for_retry"}
    runner.ti.refresh_from_db()
    assert runner.ti.state == "up_for_retry"
    assert runner.ti.next_retry_at == END + timedelta(seconds=30)


def test_failed_try_with_exponential_backoff_waits_longer_each_try_up_to_max_retry_delay():
    runner = retrying_runner(
        {"retry_delay": 10.0, "retry_exponential_backoff": True, "max_retry_delay": 25.0}
    )
    delays = []
    for try_number in (1, 2):
        if try_number > 1:
            runner = Runner(queue(runner.ti))
            assert runner.run().status_code == 200
        assert runner.finish("failed", end_date=END.isoformat()).json()["state"] == "up_for_retry"
        runner.ti.refresh_from_db()
        delays.append((runner.ti.next_retry_at - END).total_seconds())
    assert 10 <= delays[0] <= 19  # between delay and twice it, by a hash of the try
    assert delays[1] == 25  # 20..39 capped by max_retry_delay


def test_failed_try_without_retries_left_is_failed():
    run = make_run(dag_id="flaky", edges={"call_api": []}, settings={"call_api": {"retries": 2}})
    runner = Runner(queue(ti_of(run, "call_api"), try_number=3))  # retries=2: try 3 is the last
    assert runner.run().status_code == 200
    assert runner.finish("failed").json() == {"state": "failed"}
    runner.ti.refresh_from_db()
    assert (runner.ti.state, runner.ti.next_retry_at) == ("failed", None)


def test_a_retry_policys_delay_replaces_the_tasks_delay_backoff_and_cap():
    runner = retrying_runner(
        {"retry_delay": 10.0, "retry_exponential_backoff": True, "max_retry_delay": 25.0}
    )
    response = runner.finish("failed", end_date=END.isoformat(), retry_delay_seconds=90.5)
    assert response.json() == {"state": "up_for_retry"}
    runner.ti.refresh_from_db()
    assert runner.ti.next_retry_at == END + timedelta(seconds=90.5)


def test_a_retry_delay_is_refused_with_another_state_than_failed():
    runner = retrying_runner({})
    response = runner.finish("success", retry_delay_seconds=5)
    assert response.status_code == 422
    assert "retry_delay_seconds does not apply to state 'success'" in response.text


def test_fail_without_retry_fails_even_with_retries_left():
    runner = retrying_runner({})
    response = runner.finish("failed", fail_without_retry=True)
    assert response.json() == {"state": "failed"}


def test_every_finished_try_leaves_one_history_row_with_its_final_state():
    runner = retrying_runner({"retry_delay": 0.0})
    runner.finish("failed", cpu_time=1.0)
    runner = Runner(queue(runner.ti))  # the scheduler retries: try 2, a new token
    assert runner.run(hostname="worker-2").status_code == 200
    runner.finish("success", cpu_time=2.0)

    rows = TaskInstanceHistory.objects.filter(task_instance=runner.ti).order_by("try_number")
    assert [(h.try_number, h.state, h.hostname, h.cpu_time) for h in rows] == [
        (1, "up_for_retry", "worker-1", 1.0),
        (2, "success", "worker-2", 2.0),
    ]


@pytest.mark.parametrize("state", [None, "queued", "success", "up_for_retry"])
def test_finish_is_refused_unless_running(runner, state):
    set_state(runner.ti, state)
    response = runner.finish("success")
    assert response.status_code == 409
    assert response.json()["detail"]["previous_state"] == state
    runner.ti.refresh_from_db()
    assert runner.ti.state == state
    assert not TaskInstanceHistory.objects.exists()


def test_finish_with_an_unknown_state_is_422(running):
    response = running.finish("up_for_retry")
    assert response.status_code == 422
    running.ti.refresh_from_db()
    assert running.ti.state == "running"


BRANCHY = {
    "pick": ["left", "right", "other"],
    "left": ["after_left"],
    "right": ["after_right"],
    "other": [],
    "after_left": [],
    "after_right": [],
}


def states(run) -> dict[str, str | None]:
    return dict(run.task_instances.values_list("task_id", "state"))


def test_branch_skips_the_unchosen_direct_downstream_tasks_only():
    run = make_run(dag_id="branchy", edges=BRANCHY)
    runner = Runner(queue(ti_of(run, "pick")))
    runner.run()
    assert runner.finish("success", branch_task_ids=["left"]).status_code == 200
    assert states(run) == {
        "pick": "success",
        "left": None,
        "right": "skipped",
        "other": "skipped",
        "after_left": None,
        "after_right": None,  # the scheduler's trigger rules decide about it
    }


def test_a_failed_branch_skips_nothing():
    run = make_run(dag_id="branchy", edges=BRANCHY)
    runner = Runner(queue(ti_of(run, "pick")))
    runner.run()
    runner.finish("failed", branch_task_ids=["left"])
    assert states(run)["right"] is None


def test_short_circuit_all_skips_every_downstream_task():
    run = make_run(dag_id="branchy", edges=BRANCHY)
    runner = Runner(queue(ti_of(run, "pick")))
    runner.run()
    runner.finish("success", skip_downstream="all")
    assert states(run) == {
        "pick": "success",
        "left": "skipped",
        "right": "skipped",
        "other": "skipped",
        "after_left": "skipped",
        "after_right": "skipped",
    }


def test_short_circuit_direct_skips_only_the_direct_downstream_tasks():
    run = make_run(dag_id="branchy", edges=BRANCHY)
    runner = Runner(queue(ti_of(run, "pick")))
    runner.run()
    runner.finish("success", skip_downstream="direct")
    assert states(run)["left"] == states(run)["right"] == "skipped"
    assert states(run)["after_left"] is None


def test_skipping_leaves_a_downstream_task_that_already_runs_alone():
    run = make_run(dag_id="branchy", edges=BRANCHY)
    set_state(ti_of(run, "after_left"), "running")
    runner = Runner(queue(ti_of(run, "pick")))
    runner.run()
    runner.finish("success", skip_downstream="all")
    assert states(run)["after_left"] == "running"


def test_log_lines_are_appended_to_the_file_of_the_try(running, isolated_orch_dirs):
    assert running.logs(["first", "second\n"]).status_code == 204
    assert running.logs(["third"]).status_code == 204
    path = (
        isolated_orch_dirs
        / "logs"
        / "dag_id=etl"
        / "run_id=scheduled__2024-01-01T00%3A00%3A00%2B00%3A00"
        / "task_id=extract"
        / "attempt=1.log"
    )
    assert path.read_text() == "first\nsecond\nthird\n"


def test_log_lines_are_refused_after_the_try_finished(running, isolated_orch_dirs):
    running.finish("success")
    response = running.logs(["too late"])
    assert response.status_code == 409
    assert not list((isolated_orch_dirs / "logs").rglob("*.log"))


def test_responses_set_no_session_or_csrf_cookie(running):
    response = running.heartbeat()
    assert response.status_code == 204
    assert not response.cookies


def test_the_final_state_report_may_carry_the_last_log_lines(running, isolated_orch_dirs):
    assert running.logs(["first"]).status_code == 204
    assert running.finish("success", logs=["last words"]).status_code == 200
    log = next((isolated_orch_dirs / "logs").rglob("attempt=1.log"))
    assert log.read_text() == "first\nlast words\n"
