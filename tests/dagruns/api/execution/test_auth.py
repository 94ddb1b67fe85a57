"""Who may call: a valid token of the task instance's current try, and nobody else."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import time_machine

from dagruns.domain import tokens
from dagruns.domain.tokens import issue_token
from dagruns.models import TaskInstance, TaskInstanceHistory
from tests.builders import queue, ti_of
from tests.dagruns.api.conftest import Runner

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_orch_dirs")]


def snapshot(ti: TaskInstance) -> dict:
    return TaskInstance.objects.values().get(pk=ti.pk)


def signed(payload: dict) -> str:
    return jwt.encode(payload, tokens._key(), algorithm="HS256")


def bad_tokens(ti: TaskInstance) -> dict[str, str]:
    now = int(time.time())
    good = {
        "sub": str(ti.id),
        "try": ti.try_number,
        "scope": "execution",
        "iat": now,
        "exp": now + 600,
    }
    return {
        "missing": "",
        "garbage": "not-a-jwt",
        "forged": jwt.encode(good, b"another secret entirely, 32 bytes!", algorithm="HS256"),
        "unsigned": jwt.encode(good, None, algorithm="none"),
        "expired": signed({**good, "iat": now - 700, "exp": now - 100}),
        "wrong_scope": signed({**good, "scope": "rest_api"}),
        "no_try": signed({k: v for k, v in good.items() if k != "try"}),
        "bad_sub": signed({**good, "sub": "not-a-uuid"}),
    }


@pytest.mark.parametrize(
    "kind",
    ["missing", "garbage", "forged", "unsigned", "expired", "wrong_scope", "no_try", "bad_sub"],
)
def test_a_call_without_a_valid_token_is_401_and_changes_nothing(queued_ti, kind):
    runner = Runner(queued_ti, token=bad_tokens(queued_ti)[kind])
    before = snapshot(queued_ti)

    response = runner.run()

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert isinstance(response.json()["detail"], str)
    assert snapshot(queued_ti) == before


def test_an_expired_token_says_so(queued_ti):
    token = issue_token(queued_ti.id, 1, ttl=10)
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=11)):
        response = Runner(queued_ti, token).run()
    assert response.status_code == 401
    assert response.json() == {"detail": "token expired"}


def test_a_token_of_another_task_instance_is_403_and_changes_nothing(dag_run, queued_ti):
    other = queue(ti_of(dag_run, "load"))
    runner = Runner(other)  # a valid token, but for "load"
    before = snapshot(queued_ti)

    for response in (
        runner.run(ti_id=queued_ti.id),
        runner.heartbeat(ti_id=queued_ti.id),
        runner.finish("success", ti_id=queued_ti.id),
        runner.logs(["x"], ti_id=queued_ti.id),
    ):
        assert response.status_code == 403
        assert "another task instance" in response.json()["detail"]
    assert snapshot(queued_ti) == before


def test_a_token_replayed_after_its_try_ended_and_was_retried_is_403(running):
    old = Runner(running.ti, running.token)
    old.finish("failed")  # no retries: failed; a clear then the scheduler's next try
    TaskInstance.objects.filter(pk=running.ti.pk).update(state="queued", try_number=2)
    before = snapshot(running.ti)

    for response in (old.run(), old.heartbeat(), old.finish("success"), old.logs(["x"])):
        assert response.status_code == 403
        assert "try 1" in response.json()["detail"]
    assert old.call("get", "variables/anything").status_code == 403
    assert snapshot(running.ti) == before
    assert TaskInstanceHistory.objects.count() == 1


def test_a_token_replayed_after_its_try_finished_cannot_finish_it_again(running):
    running.finish("success")
    before = snapshot(running.ti)
    response = running.finish("failed")
    assert response.status_code == 409
    assert snapshot(running.ti) == before
    assert TaskInstanceHistory.objects.count() == 1


def test_a_token_of_a_deleted_task_instance_is_403(queued_ti):
    runner = Runner(queued_ti)
    queued_ti.dag_run.delete()
    assert runner.heartbeat().status_code == 403


def test_csrf_is_not_enforced_on_bearer_calls(runner):
    # Runner's Client enforces CSRF checks like a browser-facing deployment would.
    assert runner.http.handler.enforce_csrf_checks
    assert runner.run().status_code == 200
