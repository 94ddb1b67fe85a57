"""Mapped task instances over the REST API: listMapped (filters, order, paging), the
`/{task_id}/{map_index}` forms of get, tries, dependencies and PATCH, clear by
`[task_id, map_index]`, logs by `map_index`, and the 404s that name what is missing."""

from __future__ import annotations

import pytest

from dagruns.actions.tries import record_try_history
from dagruns.domain import logs
from dagruns.models import TaskInstance
from tests.builders import make_run
from tests.dagruns.api.rest.conftest import ids
from tests.mapped_rows import expand, mark_mapped

pytestmark = pytest.mark.django_db

RUN = "r1"
TIS = f"/dags/fan/dagRuns/{RUN}/taskInstances"


@pytest.fixture
def fan():
    """DAG `fan`: make → work (mapped over 4: success, failed, running, none) → report."""
    run = make_run(
        dag_id="fan", run_id=RUN, edges={"make": ["work"], "work": ["report"], "report": []}
    )
    TaskInstance.objects.filter(dag_run=run, task_id="make").update(state="success")
    expand(run, "work", ["success", "failed", "running", None])
    return run


def test_list_mapped_gives_every_instance_by_map_index(viewer, fan):
    body = viewer.get(f"{TIS}/work/listMapped").json()
    assert body["total_entries"] == 4
    assert ids(body["task_instances"], "map_index") == [0, 1, 2, 3]
    assert ids(body["task_instances"], "state") == ["success", "failed", "running", None]
    assert ids(body["task_instances"], "rendered_map_index") == ["item-0", None, "item-2", None]


def test_list_mapped_filters_orders_and_pages_as_airflow(viewer, fan):
    failed = viewer.get(f"{TIS}/work/listMapped", params={"state": ["failed", "none"]}).json()
    assert ids(failed["task_instances"], "map_index") == [1, 3]
    by_duration = viewer.get(
        f"{TIS}/work/listMapped", params={"order_by": "-duration", "limit": 2}
    ).json()
    assert by_duration["total_entries"] == 4
    assert ids(by_duration["task_instances"], "map_index") == [1, 0]
    second_page = viewer.get(f"{TIS}/work/listMapped", params={"limit": 2, "offset": 2}).json()
    assert ids(second_page["task_instances"], "map_index") == [2, 3]
    chosen = viewer.get(f"{TIS}/work/listMapped", params={"map_index": [0, 3]}).json()
    assert ids(chosen["task_instances"], "map_index") == [0, 3]
    long = viewer.get(f"{TIS}/work/listMapped", params={"duration_gte": 2.5}).json()
    assert ids(long["task_instances"], "map_index") == [1]


def test_list_mapped_refuses_what_it_cannot_list(viewer, fan):
    plain = viewer.get(f"{TIS}/make/listMapped")
    assert plain.status_code == 404 and plain.json()["detail"] == "Task id make is not mapped"
    missing = viewer.get(f"{TIS}/nope/listMapped")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    assert viewer.get("/dags/fan/dagRuns/other/taskInstances/work/listMapped").status_code == 404
    bad_order = viewer.get(f"{TIS}/work/listMapped", params={"order_by": "task_id"})
    assert bad_order.status_code == 400 and "task_id" in bad_order.json()["detail"]


def test_a_mapped_task_expanded_to_nothing_lists_no_instances(viewer, db):
    run = make_run(dag_id="empty", run_id=RUN, edges={"work": []})
    mark_mapped(run, "work")
    TaskInstance.objects.filter(dag_run=run).update(state="skipped")
    body = viewer.get(f"/dags/empty/dagRuns/{RUN}/taskInstances/work/listMapped").json()
    assert body == {"task_instances": [], "total_entries": 0}


def test_get_one_mapped_instance_and_the_404s_that_name_the_problem(viewer, fan):
    one = viewer.get(f"{TIS}/work/2").json()
    assert (one["task_id"], one["map_index"], one["state"]) == ("work", 2, "running")
    missing = viewer.get(f"{TIS}/work/9")
    assert missing.status_code == 404
    assert "map_index: `9`" in missing.json()["detail"]
    assert "map index 0..3" in missing.json()["detail"]
    unmapped = viewer.get(f"{TIS}/make/0")
    assert unmapped.status_code == 404 and "'make' is not mapped" in unmapped.json()["detail"]
    whole = viewer.get(f"{TIS}/work")
    assert whole.status_code == 404
    assert whole.json()["detail"].startswith(
        "Task instance is mapped, add the map_index value to the URL"
    )


def test_tries_of_one_mapped_instance(viewer, fan):
    ti = TaskInstance.objects.get(dag_run=fan, task_id="work", map_index=1)
    record_try_history(ti)
    TaskInstance.objects.filter(pk=ti.pk).update(try_number=2, state="success")
    body = viewer.get(f"{TIS}/work/1/tries").json()
    assert [(t["try_number"], t["state"], t["map_index"]) for t in body["task_instances"]] == [
        (1, "failed", 1),
        (2, "success", 1),
    ]
    query_form = viewer.get(f"{TIS}/work/tries", params={"map_index": 1}).json()
    assert query_form == body
    first = viewer.get(f"{TIS}/work/1/tries/1").json()
    assert (first["state"], first["map_index"]) == ("failed", 1)
    assert viewer.get(f"{TIS}/work/1/tries/5").status_code == 404
    assert viewer.get(f"{TIS}/work/7/tries").status_code == 404


def test_dependencies_of_one_waiting_mapped_instance(viewer, fan):
    body = viewer.get(f"{TIS}/work/3/dependencies").json()
    assert isinstance(body["dependencies"], list)
    assert viewer.get(f"{TIS}/work/0/dependencies").json() == {"dependencies": []}
    assert viewer.get(f"{TIS}/work/8/dependencies").status_code == 404


def test_patch_marks_only_the_map_index_in_the_url(user, fan):
    response = user.patch(f"{TIS}/work/1", {"new_state": "success", "note": "fixed by hand"})
    assert response.status_code == 200
    body = response.json()
    assert [(t["map_index"], t["state"]) for t in body["task_instances"]] == [(1, "success")]
    states = dict(
        TaskInstance.objects.filter(dag_run=fan, task_id="work").values_list("map_index", "state")
    )
    assert states == {0: "success", 1: "success", 2: "running", 3: None}
    assert TaskInstance.objects.get(dag_run=fan, task_id="work", map_index=1).note == (
        "fixed by hand"
    )
    again = user.patch(f"{TIS}/work/1", {"new_state": "success"})
    assert again.status_code == 409
    assert user.patch(f"{TIS}/work/9", {"new_state": "failed"}).status_code == 404


def test_patch_dry_run_by_map_index_changes_nothing(user, fan):
    body = user.patch(f"{TIS}/work/3/dry_run", {"new_state": "skipped"}).json()
    assert [(t["map_index"], t["state"]) for t in body["task_instances"]] == [(3, None)]
    assert TaskInstance.objects.get(dag_run=fan, task_id="work", map_index=3).state is None


def test_patch_without_a_map_index_marks_every_instance_as_airflow(user, fan):
    body = user.patch(f"{TIS}/work", {"new_state": "failed"}).json()
    assert sorted(t["map_index"] for t in body["task_instances"]) == [0, 2, 3]
    states = set(
        TaskInstance.objects.filter(dag_run=fan, task_id="work").values_list("state", flat=True)
    )
    assert states == {"failed"}


def test_clear_takes_task_id_and_map_index_pairs(user, fan):
    body = user.post(
        "/dags/fan/clearTaskInstances",
        {"dry_run": False, "only_failed": False, "task_ids": [["work", 1], ["work", 0]]},
    ).json()
    assert [(t["task_id"], t["map_index"]) for t in body["task_instances"]] == [
        ("work", 0),
        ("work", 1),
    ]
    states = dict(
        TaskInstance.objects.filter(dag_run=fan, task_id="work").values_list("map_index", "state")
    )
    assert states == {0: None, 1: None, 2: "running", 3: None}


def test_logs_of_one_mapped_instance(viewer, fan):
    ti = TaskInstance.objects.get(dag_run=fan, task_id="work", map_index=1)
    logs.append_lines(logs.ti_log_path(ti, 1), ["instance one says hello"])
    text = viewer.get(
        f"{TIS}/work/logs/1", params={"map_index": 1}, headers={"Accept": "text/plain"}
    )
    assert text.status_code == 200
    body = b"".join(text.streaming_content) if text.streaming else text.content
    assert b"instance one says hello" in body
    other = viewer.get(f"{TIS}/work/logs/1", params={"map_index": 9})
    assert other.status_code == 404 and "map index 9" in other.json()["detail"]


def test_every_listed_task_instance_carries_its_map_index(viewer, fan):
    body = viewer.get(TIS).json()
    assert sorted((t["task_id"], t["map_index"]) for t in body["task_instances"]) == [
        ("make", -1),
        ("report", -1),
        ("work", 0),
        ("work", 1),
        ("work", 2),
        ("work", 3),
    ]


def test_a_task_named_alone_in_clear_means_every_instance(user, fan):
    body = user.post(
        "/dags/fan/clearTaskInstances",
        {"dry_run": True, "only_failed": False, "task_ids": [["work", 1], "work"]},
    ).json()
    assert sorted(t["map_index"] for t in body["task_instances"]) == [0, 1, 2, 3]


def test_list_mapped_pattern_filters_and_refused_prefix_patterns(viewer, fan):
    named = viewer.get(f"{TIS}/work/listMapped", params={"rendered_map_index_pattern": "item-2"})
    assert ids(named.json()["task_instances"], "map_index") == [2]
    pools = viewer.get(f"{TIS}/work/listMapped", params={"pool_name_pattern": "default%"})
    assert pools.json()["total_entries"] == 4
    prefix = viewer.get(f"{TIS}/work/listMapped", params={"pool_name_prefix_pattern": "def"})
    assert prefix.status_code == 400 and "pool_name_prefix_pattern" in prefix.json()["detail"]


def test_a_hostile_or_overlong_pattern_on_list_mapped_answers(viewer, fan):
    hostile = viewer.get(
        f"{TIS}/work/listMapped", params={"rendered_map_index_pattern": "%_%_%_%_%_%_%_%_%x"}
    )
    assert hostile.status_code == 200 and hostile.json()["total_entries"] == 0
    long = viewer.get(f"{TIS}/work/listMapped", params={"operator_name_pattern": "x" * 201})
    assert long.status_code == 400 and "operator_name_pattern" in long.json()["detail"]
