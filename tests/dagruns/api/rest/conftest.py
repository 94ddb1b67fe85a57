"""Personas (admin, op, user, viewer, stranger, nobody) as REST API clients over real HTTP
(Django's test client), and a DAG with a run to act on."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from dagruns.api.rest.auth import issue_token
from tests.builders import make_run
from tests.personas import persona

BASE = "/api/v2"


@pytest.fixture(autouse=True)
def isolated_orch_dirs(orch_settings, tmp_path):
    """Logs and the scheduler wake-up registry under the test's own directory."""
    orch_settings.home = tmp_path
    orch_settings.log_dir = tmp_path / "logs"
    return tmp_path


class Api:
    """One caller of the REST API: a bearer token (or none) and JSON in and out."""

    def __init__(self, token: str | None = None, client: Client | None = None) -> None:
        self.token = token
        self.http = client or Client()

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: str | bytes | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        url = path if path.startswith("/") and not path.startswith("/dags") else BASE + path
        if not path.startswith(BASE) and not path.startswith("/auth"):
            url = BASE + path
        kwargs: dict[str, Any] = {"headers": self.headers(headers)}
        if method == "get":
            if params:
                kwargs["data"] = params
            return self.http.get(url, **kwargs)
        if params:
            from urllib.parse import urlencode

            url += "?" + urlencode(params, doseq=True)
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            kwargs.update(data=data, content_type="application/json")
        return getattr(self.http, method)(url, **kwargs)

    def get(self, path, **kw):
        return self.call("get", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("post", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("patch", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("delete", path, **kw)


@pytest.fixture
def admin_user(db):
    return persona("admin")


@pytest.fixture
def admin(admin_user):
    return Api(issue_token(admin_user))


@pytest.fixture
def op(db):
    return Api(issue_token(persona("op")))


@pytest.fixture
def user(db):
    return Api(issue_token(persona("user")))


@pytest.fixture
def viewer(db):
    return Api(issue_token(persona("viewer")))


@pytest.fixture
def stranger(db):
    """Signed in, but in no role group."""
    return Api(issue_token(persona("stranger")))


@pytest.fixture
def nobody(db):
    """No credentials at all."""
    return Api()


@pytest.fixture
def dag_run(db):
    """DAG `etl` (extract → load), one running run with both task instances in state none."""
    return make_run()


def ids(rows: list[dict], key: str) -> list[Any]:
    return [row[key] for row in rows]


RUN_ID = "scheduled__2024-01-01T00:00:00+00:00"


@pytest.fixture
def world(db):
    """Something of every kind: DAG `etl` (extract → load) with a run whose `extract` failed
    its first try (with a log and an XCom), a variable, a connection, a pool, an import error
    and an audit event."""
    from django.utils import timezone

    from dagruns.actions.xcoms import do_set_xcom
    from dagruns.domain import logs
    from dagruns.models import AuditEvent, Connection, DagImportError, Pool, TaskInstance, Variable
    from tests.builders import ti_of

    run = make_run(dag_id="etl", run_id=RUN_ID)
    ti = ti_of(run, "extract")
    TaskInstance.objects.filter(pk=ti.pk).update(state="failed", try_number=1)
    ti.refresh_from_db()
    logs.append_lines(logs.ti_log_path(ti), ["first line", "second line"])
    do_set_xcom(run, "extract", "return_value", {"rows": 3})
    var = Variable(key="region", description="where")
    var.val = "eu"
    var.save()
    conn = Connection(conn_id="warehouse", conn_type="postgres", host="db")
    conn.password = "pw"
    conn.save()
    Pool.objects.create(name="etl_pool", slots=4)
    error = DagImportError.objects.create(
        filename="/dags/bad.py", message="boom", stack_trace="Traceback…", timestamp=timezone.now()
    )
    event = AuditEvent.objects.create(event="paused", owner="ada", dag_id="etl")
    asset, alias = _asset_world(run)
    return {
        "run": run,
        "ti": ti,
        "import_error": error,
        "event": event,
        "asset": asset,
        "alias": alias,
    }


def _asset_world(run):
    """An asset `etl` waits for, with one queued event, and an alias."""
    from django.utils import timezone

    from dagruns.models import AssetAliasModel, AssetDagRunQueue, AssetEvent, AssetModel

    asset = AssetModel.objects.create(name="orders", uri="s3://bucket/orders")
    alias = AssetAliasModel.objects.create(name="daily")
    AssetEvent.objects.create(asset=asset, timestamp=timezone.now(), extra={"rows": 1})
    AssetDagRunQueue.objects.create(asset=asset, target_dag=run.dag, created_at=timezone.now())
    return asset, alias
