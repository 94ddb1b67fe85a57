"""Apache Airflow's official Python client (`apache-airflow-client`, 3.x) against our server:
a real HTTP server (pytest-django's live_server), a token from `POST /auth/token`, and the
calls a person scripting Airflow makes every day."""

from __future__ import annotations

import pytest
import requests
from airflow_client import client as af
from airflow_client.client.api.connection_api import ConnectionApi
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_run_api import DagRunApi
from airflow_client.client.api.pool_api import PoolApi
from airflow_client.client.api.task_instance_api import TaskInstanceApi
from airflow_client.client.api.variable_api import VariableApi
from airflow_client.client.api.x_com_api import XComApi
from airflow_client.client.exceptions import NotFoundException
from django.contrib.auth.models import Group

from dagruns.actions.xcoms import do_set_xcom
from dagruns.domain import logs
from dagruns.domain.roles import Role
from dagruns.models import DEFAULT_POOL_NAME, Pool, TaskInstance
from tests.builders import make_run, ti_of
from tests.personas import make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def world(live_server):
    """A DAG with a run whose `extract` failed on its first try (with a log and an XCom)."""
    # A transactional test starts from a flushed database: put back what migrations seed.
    for role in Role:
        Group.objects.get_or_create(name=role.group_name)
    Pool.objects.get_or_create(name=DEFAULT_POOL_NAME, defaults={"slots": 128})
    run = make_run(dag_id="etl", edges={"extract": ["load"], "load": []})
    ti = ti_of(run, "extract")
    TaskInstance.objects.filter(pk=ti.pk).update(state="failed", try_number=1)
    ti.refresh_from_db()
    logs.append_lines(logs.ti_log_path(ti), ["hello from the task", "second line"])
    do_set_xcom(run, "extract", "return_value", {"rows": 3})
    make_user("ada", Role.ADMIN)
    return run


@pytest.fixture
def api_client(live_server, world):
    response = requests.post(
        f"{live_server.url}/auth/token",
        json={"username": "ada", "password": "s3cret-pass-word"},
        timeout=10,
    )
    assert response.status_code == 201
    config = af.Configuration(host=live_server.url, access_token=response.json()["access_token"])
    with af.ApiClient(config) as client:
        yield client


def test_the_official_client_lists_and_gets_dags_and_pauses_them(api_client):
    dags = DAGApi(api_client)
    listed = dags.get_dags(limit=10)
    assert [d.dag_id for d in listed.dags] == ["etl"] and listed.total_entries == 1
    assert dags.get_dag("etl").dag_id == "etl"
    assert dags.get_dag_details("etl").dag_id == "etl"
    paused = dags.patch_dag("etl", af.DAGPatchBody(is_paused=True))
    assert paused.is_paused is True
    assert dags.patch_dag("etl", af.DAGPatchBody(is_paused=False)).is_paused is False


def test_the_official_client_triggers_a_run_with_conf_and_lists_runs_and_tasks(api_client, world):
    runs = DagRunApi(api_client)
    run = runs.trigger_dag_run(
        "etl", af.TriggerDAGRunPostBody(dag_run_id="from_client", conf={"n": 1}, logical_date=None)
    )
    assert run.dag_run_id == "from_client" and run.conf == {"n": 1}
    listed = runs.get_dag_runs("etl", order_by=["-run_after"])
    assert {r.dag_run_id for r in listed.dag_runs} == {"from_client", world.run_id}
    tis = TaskInstanceApi(api_client).get_task_instances("etl", "from_client")
    assert sorted(t.task_id for t in tis.task_instances) == ["extract", "load"]


def test_the_official_client_reads_a_log_clears_a_failed_task_and_reads_an_xcom(api_client, world):
    tis = TaskInstanceApi(api_client)
    log = tis.get_log("etl", world.run_id, "extract", 1)
    events = [m.event for m in log.content.actual_instance]
    assert events == ["hello from the task", "second line"]
    cleared = tis.post_clear_task_instances(
        "etl",
        af.ClearTaskInstancesBody(dry_run=False, only_failed=True, dag_run_id=world.run_id),
    )
    assert [t.task_id for t in cleared.task_instances] == ["extract"]
    assert TaskInstance.objects.get(dag_run=world, task_id="extract").state is None
    entry = XComApi(api_client).get_xcom_entry("etl", "extract", world.run_id, "return_value")
    assert entry.actual_instance.value == {"rows": 3}


def test_the_official_client_manages_variables_connections_and_pools(api_client):
    variables = VariableApi(api_client)
    variables.post_variable(af.VariableBody(key="region", value="eu-west-1"))
    assert variables.get_variable("region").value == "eu-west-1"
    variables.patch_variable("region", af.VariableBody(key="region", value="us-east-2"))
    assert variables.get_variable("region").value == "us-east-2"
    variables.delete_variable("region")
    with pytest.raises(NotFoundException):
        variables.get_variable("region")

    connections = ConnectionApi(api_client)
    connections.post_connection(
        af.ConnectionBody(connection_id="warehouse", conn_type="postgres", host="db", password="pw")
    )
    got = connections.get_connection("warehouse")
    assert got.host == "db" and got.password is None
    connections.patch_connection(
        "warehouse", af.ConnectionBody(connection_id="warehouse", conn_type="postgres", port=5433)
    )
    assert connections.get_connection("warehouse").port == 5433
    connections.delete_connection("warehouse")
    with pytest.raises(NotFoundException):
        connections.get_connection("warehouse")

    pools = PoolApi(api_client)
    pools.post_pool(af.PoolBody(name="etl_pool", slots=4, description="for ETL"))
    assert pools.get_pool("etl_pool").open_slots == 4
    pools.patch_pool("etl_pool", af.PoolPatchBody(slots=8), update_mask=["slots"])
    assert pools.get_pool("etl_pool").slots == 8
    assert "etl_pool" in {p.name for p in pools.get_pools().pools}
    pools.delete_pool("etl_pool")
    with pytest.raises(NotFoundException):
        pools.get_pool("etl_pool")
