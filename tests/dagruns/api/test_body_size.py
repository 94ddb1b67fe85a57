"""Oversized request bodies on the REST API, the Execution API and /auth/token: a JSON 413
naming the limit and its setting (never Django's bare HTML "Bad Request (400)")."""

from __future__ import annotations

import pytest
import requests
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client

from dagruns.domain.roles import Role
from dagruns.domain.tokens import issue_token as issue_execution_token
from dagruns.models import DEFAULT_POOL_NAME, Pool, TaskInstance, XCom
from tests.builders import make_run, queue, ti_of
from tests.dagruns.api.conftest import Runner

TEN_MB = 10 * 1024 * 1024
FIVE_MB = 5 * 1024 * 1024


def _rest_write_operations() -> list[tuple[str, str]]:
    """(method, path) of every write operation the REST API publishes, path ids filled in."""
    document = Client().get("/api/v2/openapi.json").json()
    found = []
    for path, operations in document["paths"].items():
        for method in operations:
            if method in ("post", "put", "patch", "delete"):
                concrete = path
                for name in ("dag_id", "dag_run_id", "task_id", "variable_key", "connection_id"):
                    concrete = concrete.replace("{" + name + "}", "x")
                concrete = concrete.replace("{pool_name}", "x").replace("{map_index}", "0")
                found.append((method, concrete))
    return found


def _assert_names_the_limit(response, setting: str, limit: int) -> None:
    assert response.status_code == 413, response.content[:200]
    assert response["Content-Type"] == "application/json"
    detail = response.json()["detail"]
    assert setting in detail and str(limit) in detail, detail


@pytest.mark.django_db
def test_a_10_mb_body_on_every_rest_write_endpoint_is_a_json_413_naming_the_limit():
    operations = _rest_write_operations()
    assert len(operations) >= 15, operations
    body = b'{"k": "' + b"x" * TEN_MB + b'"}'
    client = Client()
    for method, path in operations:
        response = getattr(client, method)(path, data=body, content_type="application/json")
        _assert_names_the_limit(response, "ORCH_REQUEST_BODY_MAX_SIZE", 2621440)


@pytest.mark.django_db
def test_a_10_mb_token_request_is_a_json_413():
    body = b'{"username": "' + b"x" * TEN_MB + b'"}'
    response = Client().post("/auth/token", data=body, content_type="application/json")
    _assert_names_the_limit(response, "ORCH_REQUEST_BODY_MAX_SIZE", 2621440)


@pytest.mark.django_db
def test_a_form_body_over_the_limit_is_a_json_413(orch_settings):
    orch_settings.request_body_max_size = 100
    response = Client().post("/auth/token", data={"username": "u" * 200, "password": "p"})
    _assert_names_the_limit(response, "ORCH_REQUEST_BODY_MAX_SIZE", 100)


@pytest.mark.django_db
def test_the_limit_follows_the_setting(orch_settings):
    orch_settings.request_body_max_size = 1000
    client = Client()
    small = client.post(
        "/api/v2/variables", data=b"{" + b" " * 900 + b"}", content_type="application/json"
    )
    assert small.status_code != 413
    large = client.post(
        "/api/v2/variables", data=b"{" + b" " * 1100 + b"}", content_type="application/json"
    )
    _assert_names_the_limit(large, "ORCH_REQUEST_BODY_MAX_SIZE", 1000)


@pytest.mark.django_db
def test_a_5_mb_xcom_push_is_a_413_naming_orch_xcom_max_size(running):
    response = running.set_xcom("big", "x" * FIVE_MB)
    _assert_names_the_limit(response, "ORCH_XCOM_MAX_SIZE", 1024 * 1024)
    assert not XCom.objects.filter(key="big").exists()


@pytest.mark.django_db
def test_an_xcom_limit_above_djangos_body_limit_is_honoured(running, orch_settings):
    # Django alone would refuse any body over DATA_UPLOAD_MAX_MEMORY_SIZE with a 400.
    orch_settings.xcom_max_size = 2 * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    value = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1000)
    assert running.set_xcom("big", value).status_code == 201
    assert len(XCom.objects.get(key="big").value) == len(value)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_oversized_bodies_over_real_http(live_server, tmp_path, orch_settings):
    orch_settings.home = tmp_path
    orch_settings.log_dir = tmp_path / "logs"
    for role in Role:
        Group.objects.get_or_create(name=role.group_name)
    Pool.objects.get_or_create(name=DEFAULT_POOL_NAME, defaults={"slots": 128})
    ti = queue(ti_of(make_run(), "extract"))
    runner = Runner(ti)
    assert runner.run().status_code == 200
    ti = TaskInstance.objects.get(pk=ti.pk)
    token = issue_execution_token(ti.id, ti.try_number)
    xcom = requests.post(
        f"{live_server.url}/execution/{runner.xcom_path('big')}",
        json={"value": "x" * FIVE_MB},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert xcom.status_code == 413
    assert "ORCH_XCOM_MAX_SIZE" in xcom.json()["detail"]
    rest = requests.post(
        f"{live_server.url}/api/v2/variables",
        data=b"x" * TEN_MB,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert rest.status_code == 413
    assert "ORCH_REQUEST_BODY_MAX_SIZE" in rest.json()["detail"]
