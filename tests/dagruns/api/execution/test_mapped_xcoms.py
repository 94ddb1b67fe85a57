"""The Execution API's side of dynamic task mapping: the reduce step's sequence of a mapped
task's values, the maximum map length at push, and a mapped instance's rendered name."""

from __future__ import annotations

import pytest

from dagruns.models import TaskInstance, XCom

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_orch_dirs")]


def push(dag_run, task_id, map_index, value):
    XCom.objects.create(
        dag_run=dag_run,
        dag_id=dag_run.dag_id,
        run_id=dag_run.run_id,
        task_id=task_id,
        map_index=map_index,
        key="return_value",
        value=value,
    )


def test_the_sequence_gives_the_count_and_a_slice_in_map_index_order(running, dag_run):
    for index, value in [(2, "c"), (0, "a"), (1, "b")]:
        push(dag_run, "mapped", index, value)
    push(dag_run, "mapped", -1, "not an instance")
    path = running.xcom_path("return_value", task_id="mapped") + "/-/sequence"
    answer = running.call("get", path, start=0, stop=0)
    assert answer.status_code == 200 and answer.json() == {"length": 3, "values": []}
    assert running.call("get", path, start=1).json() == {"length": 3, "values": ["b", "c"]}
    assert running.call("get", path, start=2, stop=1).status_code == 422


def test_the_sequence_of_another_run_is_403(running):
    path = running.xcom_path("return_value", task_id="mapped", run_id="other") + "/-/sequence"
    assert running.call("get", path).status_code == 403


def test_a_value_to_map_over_longer_than_the_maximum_is_refused(running, orch_settings):
    orch_settings.max_map_length = 3
    path = running.xcom_path("return_value")
    refused = running.call("post", path, {"value": [1, 2, 3, 4]}, map_index=-1, mapped_length=4)
    assert refused.status_code == 422
    assert "UnmappableXComLengthPushed" in refused.json()["detail"]
    assert "4 > 3" in refused.json()["detail"]
    assert not XCom.objects.exists()
    ok = running.call("post", path, {"value": [1, 2, 3]}, map_index=-1, mapped_length=3)
    assert ok.status_code == 201


def test_the_finish_stores_the_rendered_map_index(running):
    assert running.finish("success", rendered_map_index="file a.csv").status_code == 200
    assert TaskInstance.objects.get(pk=running.ti.pk).rendered_map_index == "file a.csv"
