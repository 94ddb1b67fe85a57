"""The admin behind the roles: Op edits connections, variables and pools (secrets never shown
back, slot usage listed, every change audited); only Admins see users and groups."""

from __future__ import annotations

import pytest

from dagruns.models import AuditEvent, Connection, Pool, TaskInstance, Variable
from tests.builders import add_run, store_dag

pytestmark = pytest.mark.django_db


def test_viewers_and_users_cannot_open_the_admin(viewer, user):
    for client in (viewer, user):
        response = client.get("/admin/dagruns/connection/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_an_operator_manages_connections_without_seeing_secrets(operator):
    response = operator.post(
        "/admin/dagruns/connection/add/",
        {
            "conn_id": "warehouse",
            "conn_type": "postgres",
            "host": "db",
            "login": "etl",
            "password": "hunter2",
            "extra": '{"api_key": "k-123", "region": "eu"}',
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    conn = Connection.objects.get(conn_id="warehouse")
    assert conn.password == "hunter2"
    listing = operator.get("/admin/dagruns/connection/").content.decode()
    change = operator.get(f"/admin/dagruns/connection/{conn.pk}/change/").content.decode()
    for html in (listing, change):
        assert "hunter2" not in html and "k-123" not in html
    assert "***" in listing and "eu" in listing
    operator.post(
        f"/admin/dagruns/connection/{conn.pk}/change/",
        {"conn_type": "postgres", "host": "db2", "login": "etl", "password": "", "extra": ""},
    )
    conn.refresh_from_db()
    assert (conn.host, conn.password) == ("db2", "hunter2")  # empty keeps the secret
    assert list(AuditEvent.objects.values_list("event", flat=True).order_by("when")) == [
        "connection_create",
        "connection_update",
    ]


def test_sensitive_variables_are_masked(operator):
    operator.post(
        "/admin/dagruns/variable/add/", {"key": "api_token", "val": "s3cret", "description": ""}
    )
    operator.post(
        "/admin/dagruns/variable/add/", {"key": "region", "val": "eu-west", "description": ""}
    )
    assert Variable.objects.get(key="api_token").val == "s3cret"
    listing = operator.get("/admin/dagruns/variable/").content.decode()
    assert "s3cret" not in listing and "***" in listing and "eu-west" in listing
    token = Variable.objects.get(key="api_token")
    assert (
        "s3cret" not in operator.get(f"/admin/dagruns/variable/{token.pk}/change/").content.decode()
    )
    assert AuditEvent.objects.filter(event="variable_create").count() == 2


def test_pools_show_their_slot_usage(operator):
    Pool.objects.get_or_create(name="default_pool", defaults={"slots": 128})
    operator.post("/admin/dagruns/pool/add/", {"name": "db", "slots": "4", "description": ""})
    dag = store_dag("etl")
    run = add_run(dag, states={"extract": "running", "transform": "queued"})
    TaskInstance.objects.filter(dag_run=run, task_id__in=["extract", "transform"]).update(pool="db")
    listing = operator.get("/admin/dagruns/pool/").content.decode()
    row = listing[listing.index(">db<") :]
    assert '<td class="field-used_slots">2</td><td class="field-open_slots">2</td>' in row
    assert AuditEvent.objects.filter(event="pool_create").exists()


def test_only_admins_manage_users_and_groups(operator, admin):
    assert operator.get("/admin/auth/user/").status_code == 403
    assert admin.get("/admin/auth/user/").status_code == 200
    assert admin.get("/admin/auth/group/").status_code == 200


def test_a_bad_port_or_a_nul_is_an_error_on_its_field_not_a_500(operator):
    form = {"conn_id": "warehouse", "conn_type": "postgres", "host": "db", "port": "99999"}
    response = operator.post("/admin/dagruns/connection/add/", form)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "port": ["port must be between 0 and 65535"]
    }
    response = operator.post(
        "/admin/dagruns/connection/add/", {**form, "port": "5432", "host": "d\x00b"}
    )
    assert response.context["adminform"].form.errors == {
        "host": ["host: NUL characters (\\u0000) are not allowed"]
    }
    assert not Connection.objects.exists()
