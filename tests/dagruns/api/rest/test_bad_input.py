"""The bad input the API must survive, one test each (the issue's list), answered the way
Airflow answers: 422 with FastAPI's error list for what does not validate, `{"detail": …}`
with 400/404/409 for what the server refuses."""

from __future__ import annotations

import pytest

from dagruns.models import AuditEvent, Connection, DagModel, DagRun, Pool, Variable
from tests.dagruns.api.rest.conftest import RUN_ID

pytestmark = pytest.mark.django_db

NASTY = "Grüße 東京 🚀 <script>alert('x')</script> \"quoted\" & done"


def test_malformed_json_is_a_422_json_invalid(admin, world):
    response = admin.post("/variables", raw='{"key": "a", "value": ')
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert not Variable.objects.filter(key="a").exists()


def test_wrong_types_are_a_422_naming_the_field(admin, world):
    response = admin.post("/pools", {"name": "p", "slots": "lots"})
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "slots"] and error["type"] == "int_parsing"


def test_unknown_fields_are_refused_where_airflow_refuses_them(admin, world):
    response = admin.post("/variables", {"key": "a", "value": "b", "colour": "red"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "extra_forbidden"


def test_unknown_fields_of_a_trigger_are_ignored_as_airflow_ignores_them(admin, world):
    response = admin.post("/dags/etl/dagRuns", {"dag_run_id": "r1", "colour": "red"})
    assert response.status_code == 200


def test_a_negative_limit_is_a_422(admin, world):
    response = admin.get("/dags", params={"limit": -1})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_a_huge_limit_is_capped_at_the_maximum_page_size(admin, world):
    for n in range(120):
        Variable.objects.create(key=f"v{n:03}")
    response = admin.get("/variables", params={"limit": 10**9})
    assert response.status_code == 200
    body = response.json()
    assert len(body["variables"]) == 100 and body["total_entries"] == 121


def test_order_by_an_unknown_field_is_a_400(admin, world):
    response = admin.get("/dags/etl/dagRuns", params={"order_by": "-colour"})
    assert response.status_code == 400
    assert "colour" in response.json()["detail"]


@pytest.mark.parametrize("value", ["not a date", "2024-13-45", "2024-01-01T00:00:00", [2024]])
def test_a_logical_date_that_is_not_an_aware_date_is_a_422(admin, world, value):
    response = admin.post("/dags/etl/dagRuns", {"logical_date": value})
    assert response.status_code == 422
    assert DagRun.objects.count() == 1


def test_a_trigger_on_a_paused_dag_is_allowed_as_in_airflow(admin, world):
    DagModel.objects.filter(dag_id="etl").update(is_paused=True)
    response = admin.post("/dags/etl/dagRuns", {"dag_run_id": "while_paused"})
    assert response.status_code == 200
    assert response.json()["state"] == "queued"


def test_a_trigger_on_an_unknown_dag_is_a_404(admin, world):
    response = admin.post("/dags/nope/dagRuns", {})
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]


def test_a_run_state_patch_to_an_illegal_state_is_a_400(admin, world):
    response = admin.patch(f"/dags/etl/dagRuns/{RUN_ID}", {"state": "running"})
    assert response.status_code == 400
    assert DagRun.objects.get(run_id=RUN_ID).state == "running"  # unchanged


def test_a_task_state_patch_to_an_illegal_state_is_a_400(admin, world):
    path = f"/dags/etl/dagRuns/{RUN_ID}/taskInstances/extract"
    response = admin.patch(path, {"new_state": "up_for_retry"})
    assert response.status_code == 400


def test_a_connection_id_of_ten_thousand_characters_is_refused(admin, world):
    long_id = "c" * 10_000
    created = admin.post("/connections", {"connection_id": long_id, "conn_type": "http"})
    assert created.status_code == 422
    assert admin.get(f"/connections/{long_id}").status_code == 404
    assert admin.delete(f"/connections/{long_id}").status_code == 404
    assert not Connection.objects.filter(conn_type="http").exists()


def test_unicode_and_script_tags_are_stored_and_returned_exactly(admin, world):
    variable = admin.post("/variables", {"key": "nasty", "value": NASTY, "description": NASTY})
    assert variable.status_code == 201
    assert admin.get("/variables/nasty").json()["value"] == NASTY
    assert Variable.objects.get(key="nasty").description == NASTY

    conn = admin.post(
        "/connections",
        {
            "connection_id": "nasty",
            "conn_type": NASTY,
            "description": NASTY,
            "host": NASTY,
            "login": NASTY,
            "schema": NASTY,
            # Not NASTY itself: the note below would be masked as this connection's secret.
            "password": "pw-" + NASTY,
            "extra": '{"note": "' + NASTY.replace('"', '\\"') + '"}',
        },
    )
    assert conn.status_code == 201, conn.content
    got = admin.get("/connections/nasty").json()
    for field in ("conn_type", "description", "host", "login", "schema"):
        assert got[field] == NASTY
    assert Connection.objects.get(conn_id="nasty").password == "pw-" + NASTY

    pool = admin.post("/pools", {"name": NASTY, "slots": 1, "description": NASTY})
    assert pool.status_code == 201
    assert Pool.objects.get(name=NASTY).description == NASTY

    # Run ids are restricted to Airflow's run-id characters; note and conf take anything.
    run = admin.post(
        "/dags/etl/dagRuns", {"dag_run_id": "r1", "note": NASTY, "conf": {NASTY: NASTY}}
    )
    assert run.status_code == 200
    assert run.json()["conf"] == {NASTY: NASTY}
    assert run.json()["note"] == NASTY
    assert run["Content-Type"] == "application/json; charset=utf-8"


def test_a_run_id_with_characters_airflow_refuses_is_a_400(admin, world):
    response = admin.post("/dags/etl/dagRuns", {"dag_run_id": NASTY})
    assert response.status_code == 400


def test_strings_are_returned_as_json_never_as_markup(admin, world):
    admin.post("/variables", {"key": "x", "value": "<script>alert(1)</script>"})
    response = admin.get("/variables/x")
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["value"] == "<script>alert(1)</script>"


def test_no_token_expired_token_and_forged_token_are_401(nobody, world, admin_user):
    import time

    import jwt

    from dagruns.api.rest.auth import issue_token
    from tests.dagruns.api.rest.conftest import Api

    assert nobody.get("/dags").status_code == 401
    expired = issue_token(admin_user, ttl=1)
    time.sleep(2.1)
    assert Api(expired).get("/dags").status_code == 401
    claims = jwt.decode(issue_token(admin_user), options={"verify_signature": False})
    forged = jwt.encode(claims, "x" * 64, algorithm="HS256")
    assert Api(forged).get("/dags").status_code == 401


def test_a_viewer_token_on_any_mutation_is_403_and_changes_nothing(viewer, world):
    before = AuditEvent.objects.count()
    calls = [
        viewer.patch("/dags/etl", {"is_paused": True}),
        viewer.post("/dags/etl/dagRuns", {}),
        viewer.delete(f"/dags/etl/dagRuns/{RUN_ID}"),
        viewer.post("/dags/etl/clearTaskInstances", {"dry_run": False}),
        viewer.post("/variables", {"key": "k", "value": "v"}),
        viewer.delete("/connections/warehouse"),
        viewer.patch("/pools/etl_pool", {"slots": 1}),
    ]
    assert [r.status_code for r in calls] == [403] * len(calls)
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    "call",
    [
        lambda api: api.get("/variables/a%00b"),
        lambda api: api.get("/dags", params={"dag_id_pattern": "a\x00"}),
        lambda api: api.post("/variables", raw='{"key": "a\\u0000", "value": "v"}'),
    ],
    ids=["path", "query", "body"],
)
def test_nul_characters_are_a_422_on_every_database(admin, world, call):
    response = call(admin)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "string_contains_nul"


def test_a_lone_surrogate_in_a_body_is_a_422(admin, world):
    response = admin.post("/variables", raw='{"key": "a\\ud800", "value": "v"}')
    assert response.status_code == 422


def test_an_offset_past_any_integer_is_an_empty_page(admin, world):
    body = admin.get("/variables", params={"offset": 10**30}).json()
    assert body["variables"] == [] and body["total_entries"] == 1
