from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from dagruns.domain.tokens import issue_token
from dagruns.models import TaskInstance
from tests.builders import make_run, queue, ti_of


@pytest.fixture
def isolated_orch_dirs(orch_settings, tmp_path):
    """Logs and the scheduler wake-up registry under the test's own directory (not autouse:
    the REST API's tests live below this directory too)."""
    orch_settings.home = tmp_path
    orch_settings.log_dir = tmp_path / "logs"
    return tmp_path


class Runner:
    """What a task runner does over HTTP, holding one try's token."""

    def __init__(self, ti: TaskInstance, token: str | None = None) -> None:
        self.ti = ti
        self.token = token if token is not None else issue_token(ti.id, ti.try_number)
        self.http = Client(enforce_csrf_checks=True)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def call(self, method: str, path: str, body: Any = None, raw: bytes | None = None, **query):
        url = f"/execution/{path}"
        if query:
            url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        kwargs: dict[str, Any] = {"headers": self.headers()}
        if data is not None:
            kwargs.update(data=data, content_type="application/json")
        return getattr(self.http, method)(url, **kwargs)

    def run(self, ti_id=None, **body):
        body = {"hostname": "worker-1", "pid": 4242, **body}
        return self.call("patch", f"task-instances/{ti_id or self.ti.id}/run", body)

    def heartbeat(self, ti_id=None):
        body = {"hostname": "worker-1", "pid": 4242}
        return self.call("put", f"task-instances/{ti_id or self.ti.id}/heartbeat", body)

    def finish(self, state: str = "success", ti_id=None, **body):
        return self.call(
            "patch", f"task-instances/{ti_id or self.ti.id}/state", {"state": state, **body}
        )

    def logs(self, lines: list[str], ti_id=None):
        return self.call("post", f"task-instances/{ti_id or self.ti.id}/logs", {"lines": lines})

    def xcom_path(self, key: str, task_id=None, dag_id=None, run_id=None) -> str:
        return (
            f"xcoms/{dag_id or self.ti.dag_id}/{run_id or self.ti.run_id}/"
            f"{task_id or self.ti.task_id}/{key}"
        )

    def get_xcom(self, key: str, **where):
        map_index = where.pop("map_index", -1)
        return self.call("get", self.xcom_path(key, **where), map_index=map_index)

    def set_xcom(self, key: str, value: Any = None, raw: bytes | None = None, **where):
        map_index = where.pop("map_index", -1)
        body = {"value": value} if raw is None else None
        return self.call("post", self.xcom_path(key, **where), body, raw=raw, map_index=map_index)


@pytest.fixture
def dag_run(db, isolated_orch_dirs):
    return make_run()


@pytest.fixture
def queued_ti(dag_run):
    return queue(ti_of(dag_run, "extract"))


@pytest.fixture
def runner(queued_ti):
    return Runner(queued_ti)


@pytest.fixture
def running(runner):
    """A runner whose try has been claimed."""
    assert runner.run().status_code == 200
    runner.ti.refresh_from_db()
    return runner
