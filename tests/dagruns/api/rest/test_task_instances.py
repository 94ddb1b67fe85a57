"""Task instances: list (per run and across with `~`), batch, get, tries, dependencies,
patch (with relatives and dry run) and clearTaskInstances."""

from __future__ import annotations

import pytest

from dagruns.actions.tries import record_try_history
from dagruns.models import AuditEvent, DagRun, TaskInstance
from tests.builders import make_run
from tests.dagruns.api.rest.conftest import RUN_ID, ids

pytestmark = pytest.mark.django_db

TIS = f"/dags/etl/dagRuns/{RUN_ID}/taskInstances"


def test_lists_a_runs_task_instances_with_airflows_fields(admin, world):
    body = admin.get(TIS).json()
    assert body["total_entries"] == 2
    extract = body["task_instances"][0]
    assert extract["task_id"] == "extract" and extract["state"] == "failed"
    assert extract["dag_run_id"] == RUN_ID and extract["try_number"] == 1
    assert extract["executor_config"] == "{}" and extract["dag_version"]["version_number"] == 1
    assert body["task_instances"][1]["state"] is None


def test_tilde_lists_across_runs_and_dags_and_filters_state(admin, world):
    make_run(dag_id="other", run_id="r2")
    assert admin.get("/dags/~/dagRuns/~/taskInstances").json()["total_entries"] == 4
    assert admin.get("/dags/etl/dagRuns/~/taskInstances").json()["total_entries"] == 2
    failed = admin.get("/dags/~/dagRuns/~/taskInstances", params={"state": "failed"}).json()
    assert ids(failed["task_instances"], "task_id") == ["extract"]
    none = admin.get("/dags/~/dagRuns/~/taskInstances", params={"state": "none"}).json()
    assert none["total_entries"] == 3
    assert admin.get("/dags/etl/dagRuns/nope/taskInstances").status_code == 404


def test_the_list_honours_name_patterns_and_refuses_prefix_patterns_by_name(admin, world):
    # Airflow's client sends these: matched anywhere (LIKE), never silently ignored.
    TaskInstance.objects.filter(task_id="extract").update(pool="etl_pool", queue="etl_queue")
    pools = admin.get(TIS, params={"pool_name_pattern": "etl%"}).json()
    assert ids(pools["task_instances"], "task_id") == ["extract"]
    queues = admin.get("/dags/~/dagRuns/~/taskInstances", params={"queue_name_pattern": "nope"})
    assert queues.json()["total_entries"] == 0
    prefix = admin.get(TIS, params={"operator_name_prefix_pattern": "Py"})
    assert prefix.status_code == 400
    assert "operator_name_prefix_pattern" in prefix.json()["detail"]


def test_the_batch_list_takes_filters_in_the_body(admin, world):
    body = admin.post(
        "/dags/~/dagRuns/~/taskInstances/list", {"task_ids": ["load"], "order_by": "-state"}
    ).json()
    assert ids(body["task_instances"], "task_id") == ["load"]


def test_get_one_and_a_missing_one(admin, world):
    assert admin.get(f"{TIS}/extract").json()["id"] == str(world["ti"].id)
    assert admin.get(f"{TIS}/nope").status_code == 404
    assert admin.get(f"{TIS}/extract/3").status_code == 404


def test_tries_list_every_try_oldest_first(admin, world):
    ti = TaskInstance.objects.get(task_id="extract")
    record_try_history(ti)  # try 1 ended failed
    TaskInstance.objects.filter(pk=ti.pk).update(try_number=2, state="success")
    body = admin.get(f"{TIS}/extract/tries").json()
    assert [(t["try_number"], t["state"]) for t in body["task_instances"]] == [
        (1, "failed"),
        (2, "success"),
    ]
    assert admin.get(f"{TIS}/extract/tries/1").json()["state"] == "failed"
    assert admin.get(f"{TIS}/extract/tries/2").json()["state"] == "success"
    assert admin.get(f"{TIS}/extract/tries/3").status_code == 404


def test_dependencies_explain_why_a_task_waits(admin, world):
    deps = admin.get(f"{TIS}/load/dependencies").json()["dependencies"]
    assert [d["name"] for d in deps] == ["Trigger Rule"]
    assert admin.get(f"{TIS}/extract/dependencies").json() == {"dependencies": []}


def test_patch_marks_success_with_downstream_and_audits(user, world):
    response = user.patch(f"{TIS}/extract", {"new_state": "success", "include_downstream": True})
    assert response.status_code == 200
    assert sorted(ids(response.json()["task_instances"], "task_id")) == ["extract", "load"]
    assert set(TaskInstance.objects.values_list("state", flat=True)) == {"success"}
    assert AuditEvent.objects.filter(event="mark_success", owner="uma").exists()


def test_patch_dry_run_changes_nothing(user, world):
    response = user.patch(f"{TIS}/extract/dry_run", {"new_state": "skipped"})
    assert ids(response.json()["task_instances"], "task_id") == ["extract"]
    assert TaskInstance.objects.get(task_id="extract").state == "failed"


def test_patch_to_the_state_it_already_has_is_409(user, world):
    assert user.patch(f"{TIS}/extract", {"new_state": "failed"}).status_code == 409


def test_patch_sets_a_note(user, world):
    response = user.patch(f"{TIS}/extract", {"note": "flaky upstream"})
    assert response.json()["task_instances"][0]["note"] == "flaky upstream"
    assert TaskInstance.objects.get(task_id="extract").note == "flaky upstream"


def test_clear_task_instances_dry_run_lists_and_changes_nothing(user, world):
    response = user.post("/dags/etl/clearTaskInstances", {"dag_run_id": RUN_ID})
    assert ids(response.json()["task_instances"], "task_id") == ["extract"]
    assert TaskInstance.objects.get(task_id="extract").state == "failed"


def test_clear_task_instances_clears_with_downstream_and_reopens_the_run(user, world):
    DagRun.objects.filter(run_id=RUN_ID).update(state="failed")
    response = user.post(
        "/dags/etl/clearTaskInstances",
        {
            "dry_run": False,
            "only_failed": False,
            "task_ids": ["extract"],
            "include_downstream": True,
            "reset_dag_runs": True,
        },
    )
    assert sorted(ids(response.json()["task_instances"], "task_id")) == ["extract", "load"]
    assert set(TaskInstance.objects.values_list("state", flat=True)) == {None}
    assert DagRun.objects.get(run_id=RUN_ID).state == "running"
    assert AuditEvent.objects.filter(event="clear", owner="uma").exists()


def test_clear_task_instances_of_an_unknown_run_is_404(user, world):
    response = user.post("/dags/etl/clearTaskInstances", {"dag_run_id": "nope"})
    assert response.status_code == 404


def test_clearing_an_unknown_task_is_a_400_naming_it(user, world):
    response = user.post(
        "/dags/etl/clearTaskInstances", {"dag_run_id": RUN_ID, "task_ids": ["ghost"]}
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "DAG 'etl' has no task 'ghost'"


def test_patch_with_state_and_note_writes_both_in_one_go(user, world):
    response = user.patch(f"{TIS}/extract", {"new_state": "success", "note": "by hand"})
    assert response.status_code == 200
    extract = TaskInstance.objects.get(task_id="extract")
    assert (extract.state, extract.note) == ("success", "by hand")


def test_patch_with_a_refused_note_changes_no_state(user, world):
    response = user.patch(f"{TIS}/extract", {"new_state": "success", "note": "x" * 1001})
    assert response.status_code in (400, 422)
    assert TaskInstance.objects.get(task_id="extract").state == "failed"
