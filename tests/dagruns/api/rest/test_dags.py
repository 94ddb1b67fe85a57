"""`/dags`, `/dags/{dag_id}[/details]`, `/dagSources`, `/dagTags`."""

from __future__ import annotations

import pytest

from dagruns.models import AuditEvent, DagModel, DagRun, DagTag, DagVersion, TaskInstance
from tests.builders import make_run
from tests.dagruns.api.rest.conftest import RUN_ID, ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def dags(db):
    for dag_id, paused, active, tags in [
        ("alpha", False, True, ["finance", "daily"]),
        ("beta", True, True, ["daily"]),
        ("gamma", False, True, []),
        ("stale", False, False, []),
    ]:
        dag = DagModel.objects.create(
            dag_id=dag_id,
            fileloc=f"/dags/{dag_id}.py",
            is_paused=paused,
            is_active=active,
            owners="data, ops",
        )
        for tag in tags:
            DagTag.objects.create(dag=dag, name=tag)


def test_the_list_has_airflows_fields_and_pagination(admin, dags):
    body = admin.get("/dags", params={"limit": 2}).json()
    assert body["total_entries"] == 3
    assert ids(body["dags"], "dag_id") == ["alpha", "beta"]
    alpha = body["dags"][0]
    assert alpha["owners"] == ["data", "ops"]
    assert sorted(t["name"] for t in alpha["tags"]) == ["daily", "finance"]
    assert alpha["is_stale"] is False and alpha["file_token"]
    page2 = admin.get("/dags", params={"limit": 2, "offset": 2}).json()
    assert ids(page2["dags"], "dag_id") == ["gamma"]


def test_filters_by_pattern_tags_paused_and_activity(admin, dags):
    def listed(**params):
        return ids(admin.get("/dags", params=params).json()["dags"], "dag_id")

    assert listed(dag_id_pattern="alp") == ["alpha"]
    assert listed(dag_id_pattern="a_p") == ["alpha"]
    assert listed(dag_id_pattern="g%a") == ["gamma"]
    assert listed(tags=["daily"]) == ["alpha", "beta"]
    assert listed(tags=["daily", "finance"], tags_match_mode="all") == ["alpha"]
    assert listed(paused="true") == ["beta"]
    assert listed(only_active="false") == ["alpha", "beta", "gamma", "stale"]
    assert listed(exclude_stale="false", paused="false") == ["alpha", "gamma", "stale"]
    assert listed(order_by="-dag_id") == ["gamma", "beta", "alpha"]


def test_get_and_details(admin, world):
    assert admin.get("/dags/etl").json()["dag_id"] == "etl"
    details = admin.get("/dags/etl/details").json()
    assert details["active_runs_count"] == 1
    assert details["latest_dag_version"]["version_number"] == 1
    pk = DagVersion.objects.get().pk
    assert details["latest_dag_version"]["id"] == f"00000000-0000-0000-0000-{pk:012x}"
    assert admin.get("/dags/nope").json() == {"detail": "Dag with id nope was not found"}


def test_patch_pauses_through_the_action_and_is_audited(user, world):
    response = user.patch("/dags/etl", {"is_paused": True})
    assert response.status_code == 200 and response.json()["is_paused"] is True
    assert DagModel.objects.get(dag_id="etl").is_paused is True
    event = AuditEvent.objects.filter(event="paused").latest("when")
    assert event.owner == "uma" and event.dag_id == "etl"


def test_patch_refuses_other_fields_in_the_update_mask(user, world):
    response = user.patch("/dags/etl", {"is_paused": True}, params={"update_mask": "owners"})
    assert response.status_code == 400


def test_patch_requires_is_paused(user, world):
    assert user.patch("/dags/etl", {}).status_code == 422


def test_delete_removes_runs_and_keeps_the_audit_log(user, world):
    assert user.delete("/dags/etl").status_code == 204
    assert not DagModel.objects.filter(dag_id="etl").exists()
    assert not DagRun.objects.exists() and not TaskInstance.objects.exists()
    assert AuditEvent.objects.filter(event="delete_dag", dag_id="etl").exists()
    assert user.delete("/dags/etl").status_code == 404


def test_delete_is_refused_while_a_task_runs(user, world):
    TaskInstance.objects.filter(task_id="load").update(state="running")
    response = user.delete("/dags/etl")
    assert response.status_code == 409
    assert DagModel.objects.filter(dag_id="etl").exists()


def test_dag_source_as_json_and_as_text(admin, world):
    DagVersion.objects.update(source_code="print('hello')\n")
    body = admin.get("/dagSources/etl").json()
    assert body == {
        "content": "print('hello')\n",
        "dag_id": "etl",
        "version_number": 1,
        "dag_display_name": "etl",
    }
    text = admin.get("/dagSources/etl", headers={"Accept": "text/plain"})
    assert text.content == b"print('hello')\n"
    assert admin.get("/dagSources/etl", params={"version_number": 9}).status_code == 404
    assert admin.get("/dagSources/etl", headers={"Accept": "image/png"}).status_code == 406


def test_dag_tags_are_distinct_sorted_and_filterable(admin, dags):
    assert admin.get("/dagTags").json() == {"tags": ["daily", "finance"], "total_entries": 2}
    assert admin.get("/dagTags", params={"order_by": "-name"}).json()["tags"] == [
        "finance",
        "daily",
    ]
    assert admin.get("/dagTags", params={"tag_name_pattern": "fin"}).json()["tags"] == ["finance"]


def test_a_second_run_does_not_change_the_dag_count(admin, world):
    make_run(dag_id="etl", run_id="manual__x", logical_date=None)
    assert admin.get("/dags").json()["total_entries"] == 1
    assert RUN_ID


def test_a_dags_display_name_is_shown_filtered_and_ordered_on(admin, world):
    DagModel.objects.create(dag_id="zz_named", fileloc="/dags/n.py", dag_display_name="A report")
    body = admin.get("/dags/zz_named").json()
    assert body["dag_id"] == "zz_named" and body["dag_display_name"] == "A report"
    found = admin.get("/dags", params={"dag_display_name_pattern": "report"}).json()
    assert [d["dag_id"] for d in found["dags"]] == ["zz_named"]
    # Without a name of its own a DAG is named by its dag_id, as in Airflow.
    assert admin.get("/dags/etl").json()["dag_display_name"] == "etl"
    ordered = admin.get("/dags", params={"order_by": "dag_display_name"}).json()["dags"]
    assert ordered[0]["dag_id"] == "zz_named"


def test_favourites_are_per_caller_filter_the_list_and_show_in_details(viewer, user, dags):
    assert viewer.post("/dags/alpha/favorite").status_code == 204
    assert viewer.post("/dags/alpha/favorite").status_code == 409  # already one
    assert viewer.post("/dags/nope/favorite").status_code == 404
    assert ids(viewer.get("/dags", params={"is_favorite": "true"}).json()["dags"], "dag_id") == [
        "alpha"
    ]
    others = viewer.get("/dags", params={"is_favorite": "false"}).json()["dags"]
    assert ids(others, "dag_id") == ["beta", "gamma"]
    assert user.get("/dags", params={"is_favorite": "true"}).json()["total_entries"] == 0
    assert viewer.get("/dags/alpha/details").json()["is_favorite"] is True
    assert user.get("/dags/alpha/details").json()["is_favorite"] is False
    assert viewer.post("/dags/alpha/unfavorite").status_code == 204
    response = viewer.post("/dags/alpha/unfavorite")
    assert response.status_code == 409
    assert response.json()["detail"] == "Dag is not marked as favorite"
    events = AuditEvent.objects.filter(dag_id="alpha").values_list("event", flat=True)
    assert sorted(events) == ["favorite_dag", "unfavorite_dag"]
