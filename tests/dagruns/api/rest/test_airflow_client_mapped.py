"""Apache Airflow's official Python client on mapped task instances: listMapped, one
instance, its tries, a mark by map index, and a clear by `[task_id, map_index]`."""

from __future__ import annotations

import pytest
from airflow_client import client as af
from airflow_client.client.api.task_instance_api import TaskInstanceApi
from airflow_client.client.exceptions import NotFoundException
from airflow_client.client.models.clear_task_instances_body_task_ids_inner import (
    ClearTaskInstancesBodyTaskIdsInner,
)

from dagruns.models import TaskInstance
from tests.dagruns.api.rest.test_airflow_client import api_client, world  # noqa: F401
from tests.mapped_rows import expand

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_the_official_client_reads_and_acts_on_mapped_instances(api_client, world):  # noqa: F811
    expand(world, "extract", ["success", "failed", "success"])
    tis = TaskInstanceApi(api_client)
    listed = tis.get_mapped_task_instances("etl", world.run_id, "extract", order_by=["-map_index"])
    assert [t.map_index for t in listed.task_instances] == [2, 1, 0]
    assert listed.task_instances[2].rendered_map_index == "item-0"
    one = tis.get_mapped_task_instance("etl", world.run_id, "extract", 1)
    assert (one.map_index, one.state) == (1, "failed")
    tries = tis.get_mapped_task_instance_tries("etl", world.run_id, "extract", 1)
    assert [t.try_number for t in tries.task_instances] == [1]
    with pytest.raises(NotFoundException):
        tis.get_mapped_task_instance("etl", world.run_id, "extract", 5)
    marked = tis.patch_task_instance_by_map_index(
        "etl", world.run_id, "extract", 1, af.PatchTaskInstanceBody(new_state="success")
    )
    assert [(t.map_index, t.state) for t in marked.task_instances] == [(1, "success")]
    cleared = tis.post_clear_task_instances(
        "etl",
        af.ClearTaskInstancesBody(
            dry_run=False,
            only_failed=False,
            dag_run_id=world.run_id,
            task_ids=[ClearTaskInstancesBodyTaskIdsInner(["extract", 2])],
        ),
    )
    assert [(t.task_id, t.map_index) for t in cleared.task_instances] == [("extract", 2)]
    assert TaskInstance.objects.get(dag_run=world, task_id="extract", map_index=2).state is None
