"""Every operation of the OpenAPI document, three ways: a call that succeeds, a bad input that
is refused with a 4xx, and the same call without credentials (401) — plus, for mutations, a
role too low (403). The table is checked against the document, so a new endpoint without its
row fails here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client

from dagruns.api.rest.auth import issue_token
from tests.dagruns.api.rest.conftest import RUN_ID, Api
from tests.personas import persona

pytestmark = pytest.mark.django_db

R = f"/dags/etl/dagRuns/{RUN_ID}"
TI = f"{R}/taskInstances/extract"


@dataclass
class Call:
    method: str
    path: str
    body: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    raw: str | None = None


@dataclass
class Row:
    op: str
    ok: Call
    ok_status: int
    bad: Call
    bad_status: int
    # The lowest role that may call it; one below gets 403. None: open to anyone.
    role: str | None = "viewer"


BACKFILL = {
    "dag_id": "daily",
    "from_date": "2024-01-01T00:00:00Z",
    "to_date": "2024-01-02T00:00:00Z",
}

ROWS = [
    Row("get_dags", Call("get", "/dags"), 200, Call("get", "/dags", params={"limit": -1}), 422),
    Row("get_dag", Call("get", "/dags/etl"), 200, Call("get", "/dags/nope"), 404),
    Row(
        "get_dag_details",
        Call("get", "/dags/etl/details"),
        200,
        Call("get", "/dags/x/details"),
        404,
    ),
    Row(
        "patch_dag",
        Call("patch", "/dags/etl", {"is_paused": True}),
        200,
        Call("patch", "/dags/etl", {"is_paused": "maybe"}),
        422,
        "user",
    ),
    Row("delete_dag", Call("delete", "/dags/etl"), 204, Call("delete", "/dags/nope"), 404, "user"),
    Row(
        "favorite_dag",
        Call("post", "/dags/daily/favorite"),
        204,
        Call("post", "/dags/nope/favorite"),
        404,
    ),
    # The viewer has `etl` starred (see `viewer` below); the admin has nothing to unstar.
    Row(
        "unfavorite_dag",
        Call("post", "/dags/etl/unfavorite"),
        204,
        Call("post", "/dags/daily/unfavorite"),
        409,
    ),
    Row(
        "get_dag_source",
        Call("get", "/dagSources/etl"),
        200,
        Call("get", "/dagSources/etl", params={"version_number": "one"}),
        422,
    ),
    Row(
        "get_dag_tags",
        Call("get", "/dagTags"),
        200,
        Call("get", "/dagTags", params={"order_by": "colour"}),
        400,
    ),
    Row(
        "get_dag_runs",
        Call("get", "/dags/etl/dagRuns"),
        200,
        Call("get", "/dags/etl/dagRuns", params={"logical_date_gte": "yesterday"}),
        422,
    ),
    Row(
        "get_list_dag_runs_batch",
        Call("post", "/dags/~/dagRuns/list", {"dag_ids": ["etl"]}),
        200,
        Call("post", "/dags/~/dagRuns/list", {"page_limit": "many"}),
        422,
    ),
    Row("get_dag_run", Call("get", R), 200, Call("get", "/dags/etl/dagRuns/nope"), 404),
    Row(
        "trigger_dag_run",
        Call("post", "/dags/etl/dagRuns", {"conf": {"a": 1}}),
        200,
        Call("post", "/dags/etl/dagRuns", {"logical_date": "not a date"}),
        422,
        "user",
    ),
    Row(
        "patch_dag_run",
        Call("patch", R, {"note": "checked"}),
        200,
        Call("patch", R, {"state": "exploded"}),
        400,
        "user",
    ),
    Row(
        "delete_dag_run", Call("delete", R), 204, Call("delete", "/dags/etl/dagRuns/x"), 404, "user"
    ),
    Row(
        "clear_dag_run",
        Call("post", f"{R}/clear", {"dry_run": True}),
        200,
        Call("post", f"{R}/clear", {"dry_run": True, "colour": "red"}),
        422,
        "user",
    ),
    Row(
        "get_task_instances",
        Call("get", f"{R}/taskInstances"),
        200,
        Call("get", f"{R}/taskInstances", params={"order_by": "nonsense"}),
        400,
    ),
    Row(
        "get_task_instances_batch",
        Call("post", "/dags/~/dagRuns/~/taskInstances/list", {"dag_ids": ["etl"]}),
        200,
        Call("post", "/dags/~/dagRuns/~/taskInstances/list", raw="{not json"),
        422,
    ),
    Row("get_task_instance", Call("get", TI), 200, Call("get", f"{R}/taskInstances/nope"), 404),
    Row(
        "get_mapped_task_instance",
        Call("get", f"{TI}/0"),
        404,  # extract is not mapped: its only instance has map_index -1
        Call("get", f"{TI}/not-a-number"),
        404,
    ),
    Row(
        "get_mapped_task_instances",
        Call("get", f"{TI}/listMapped"),
        404,  # extract is not mapped (test_mapped_task_instances.py lists a mapped one)
        Call("get", f"{TI}/listMapped", params={"limit": "many"}),
        422,
    ),
    Row(
        "get_mapped_task_instance_tries",
        Call("get", f"{TI}/-1/tries"),
        200,
        Call("get", f"{TI}/3/tries"),
        404,
    ),
    Row(
        "get_mapped_task_instance_try_details",
        Call("get", f"{TI}/-1/tries/1"),
        200,
        Call("get", f"{TI}/-1/tries/7"),
        404,
    ),
    Row(
        "get_task_instance_dependencies_by_map_index",
        Call("get", f"{R}/taskInstances/load/-1/dependencies"),
        200,
        Call("get", f"{R}/taskInstances/load/2/dependencies"),
        404,
    ),
    Row(
        "patch_task_instance_by_map_index",
        Call("patch", f"{TI}/-1", {"new_state": "success"}),
        200,
        Call("patch", f"{TI}/-1", {"new_state": "running"}),
        400,
        "user",
    ),
    Row(
        "patch_task_instance_dry_run_by_map_index",
        Call("patch", f"{TI}/-1/dry_run", {"new_state": "success"}),
        200,
        Call("patch", f"{TI}/4/dry_run", {"new_state": "success"}),
        404,
        "user",
    ),
    Row(
        "get_task_instance_tries",
        Call("get", f"{TI}/tries"),
        200,
        Call("get", f"{TI}/tries", params={"map_index": "x"}),
        422,
    ),
    Row(
        "get_task_instance_try_details",
        Call("get", f"{TI}/tries/1"),
        200,
        Call("get", f"{TI}/tries/7"),
        404,
    ),
    Row(
        "get_task_instance_dependencies",
        Call("get", f"{R}/taskInstances/load/dependencies"),
        200,
        Call("get", f"{R}/taskInstances/nope/dependencies"),
        404,
    ),
    Row(
        "patch_task_instance",
        Call("patch", TI, {"new_state": "success"}),
        200,
        Call("patch", TI, {"new_state": "running"}),
        400,
        "user",
    ),
    Row(
        "patch_task_instance_dry_run",
        Call("patch", f"{TI}/dry_run", {"new_state": "success"}),
        200,
        Call("patch", f"{TI}/dry_run", {"new_state": "success", "extra": 1}),
        422,
        "user",
    ),
    Row(
        "post_clear_task_instances",
        Call("post", "/dags/etl/clearTaskInstances", {"dry_run": True}),
        200,
        Call("post", "/dags/etl/clearTaskInstances", {"dry_run": "perhaps"}),
        422,
        "user",
    ),
    Row("get_log", Call("get", f"{TI}/logs/1"), 200, Call("get", f"{TI}/logs/0"), 422),
    Row(
        "get_xcom_entries",
        Call("get", f"{TI}/xcomEntries"),
        200,
        Call("get", f"{TI}/xcomEntries", params={"limit": "all"}),
        422,
    ),
    Row(
        "get_xcom_entry",
        Call("get", f"{TI}/xcomEntries/return_value"),
        200,
        Call("get", f"{TI}/xcomEntries/missing"),
        404,
    ),
    Row(
        "get_variables",
        Call("get", "/variables"),
        200,
        Call("get", "/variables", params={"order_by": "value"}),
        400,
    ),
    Row("get_variable", Call("get", "/variables/region"), 200, Call("get", "/variables/no"), 404),
    Row(
        "post_variable",
        Call("post", "/variables", {"key": "k", "value": "v"}),
        201,
        Call("post", "/variables", {"key": "k"}),
        422,
        "op",
    ),
    Row(
        "patch_variable",
        Call("patch", "/variables/region", {"key": "region", "value": "us"}),
        200,
        Call("patch", "/variables/region", {"key": "other", "value": "us"}),
        400,
        "op",
    ),
    Row(
        "delete_variable",
        Call("delete", "/variables/region"),
        204,
        Call("delete", "/variables/none"),
        404,
        "op",
    ),
    Row(
        "get_connections",
        Call("get", "/connections"),
        200,
        Call("get", "/connections", params={"offset": -3}),
        422,
    ),
    Row(
        "get_connection",
        Call("get", "/connections/warehouse"),
        200,
        Call("get", "/connections/" + "c" * 10_000),
        404,
    ),
    Row(
        "post_connection",
        Call("post", "/connections", {"connection_id": "api", "conn_type": "http"}),
        201,
        Call("post", "/connections", {"connection_id": "c" * 10_000, "conn_type": "http"}),
        422,
        "op",
    ),
    Row(
        "patch_connection",
        Call("patch", "/connections/warehouse", {"connection_id": "warehouse", "conn_type": "x"}),
        200,
        Call("patch", "/connections/warehouse", {"connection_id": "warehouse", "port": "ssh"}),
        422,
        "op",
    ),
    Row(
        "delete_connection",
        Call("delete", "/connections/warehouse"),
        204,
        Call("delete", "/connections/none"),
        404,
        "op",
    ),
    Row(
        "test_connection",
        Call("post", "/connections/test", {"connection_id": "warehouse", "conn_type": "fs"}),
        200,
        Call("post", "/connections/test", {"connection_id": "warehouse"}),
        422,
        "op",
    ),
    Row(
        "get_providers",
        Call("get", "/providers"),
        200,
        Call("get", "/providers", params={"limit": -1}),
        422,
        "op",
    ),
    Row(
        "get_plugins",
        Call("get", "/plugins"),
        200,
        Call("get", "/plugins", params={"offset": -3}),
        422,
    ),
    Row(
        "import_errors",
        Call("get", "/plugins/importErrors"),
        200,
        Call("post", "/plugins/importErrors"),
        405,
    ),
    Row(
        "get_config",
        Call("get", "/config"),
        200,
        Call("get", "/config", params={"section": "nope"}),
        404,
        "op",
    ),
    Row(
        "get_config_value",
        Call("get", "/config/section/core/option/parallelism"),
        200,
        Call("get", "/config/section/core/option/nope"),
        404,
        "op",
    ),
    Row(
        "get_pools",
        Call("get", "/pools"),
        200,
        Call("get", "/pools", params={"order_by": "x"}),
        400,
    ),
    Row("get_pool", Call("get", "/pools/etl_pool"), 200, Call("get", "/pools/none"), 404),
    Row(
        "post_pool",
        Call("post", "/pools", {"name": "p", "slots": 2}),
        201,
        Call("post", "/pools", {"name": "p", "slots": -5}),
        422,
        "op",
    ),
    Row(
        "patch_pool",
        Call("patch", "/pools/etl_pool", {"slots": 9}),
        200,
        Call("patch", "/pools/default_pool", {"pool": "renamed"}),
        400,
        "op",
    ),
    Row(
        "delete_pool",
        Call("delete", "/pools/etl_pool"),
        204,
        Call("delete", "/pools/default_pool"),
        400,
        "op",
    ),
    Row(
        "get_import_errors",
        Call("get", "/importErrors"),
        200,
        Call("get", "/importErrors", params={"limit": "x"}),
        422,
    ),
    Row(
        "get_import_error",
        Call("get", "/importErrors/{import_error}"),
        200,
        Call("get", "/importErrors/999999"),
        404,
    ),
    Row(
        "get_event_logs",
        Call("get", "/eventLogs"),
        200,
        Call("get", "/eventLogs", params={"before": "last week"}),
        422,
    ),
    Row(
        "get_event_log",
        Call("get", "/eventLogs/{event}"),
        200,
        Call("get", "/eventLogs/abc"),
        422,
    ),
    Row(
        "get_health",
        Call("get", "/monitor/health"),
        200,
        Call("post", "/monitor/health"),
        405,
        None,
    ),
    Row("get_version", Call("get", "/version"), 200, Call("delete", "/version"), 405, None),
    Row(
        "list_backfills",
        Call("get", "/backfills", params={"dag_id": "etl"}),
        200,
        Call("get", "/backfills"),
        422,
    ),
    Row(
        "get_backfill",
        Call("get", "/backfills/{backfill}"),
        200,
        Call("get", "/backfills/999999"),
        404,
    ),
    Row(
        "create_backfill",
        Call("post", "/backfills", BACKFILL),
        200,
        Call("post", "/backfills", {**BACKFILL, "from_date": "yesterday"}),
        422,
        "user",
    ),
    Row(
        "create_backfill_dry_run",
        Call("post", "/backfills/dry_run", BACKFILL),
        200,
        Call("post", "/backfills/dry_run", {**BACKFILL, "to_date": "2023-01-01T00:00:00Z"}),
        422,
        "user",
    ),
    *(
        Row(
            f"{verb}_backfill",
            Call("put", f"/backfills/{{backfill}}/{verb}"),
            200,
            Call("put", f"/backfills/999999/{verb}"),
            404,
            "user",
        )
        for verb in ("pause", "unpause", "cancel")
    ),
    Row(
        "get_assets",
        Call("get", "/assets", params={"only_active": "false"}),
        200,
        Call("get", "/assets", params={"order_by": "colour"}),
        400,
    ),
    Row("get_asset", Call("get", "/assets/{asset}"), 200, Call("get", "/assets/0"), 404),
    Row(
        "get_asset_aliases",
        Call("get", "/assets/aliases"),
        200,
        Call("get", "/assets/aliases", params={"limit": "many"}),
        422,
    ),
    Row(
        "get_asset_alias",
        Call("get", "/assets/aliases/{alias}"),
        200,
        Call("get", "/assets/aliases/0"),
        404,
    ),
    Row(
        "get_asset_events",
        Call("get", "/assets/events"),
        200,
        Call("get", "/assets/events", params={"timestamp_gte": "yesterday"}),
        422,
    ),
    Row(
        "create_asset_event",
        Call("post", "/assets/events", {"asset_id": "{asset}", "extra": {"k": 1}}),
        200,
        Call("post", "/assets/events", {"asset_id": 0}),
        404,
        "user",
    ),
    Row(
        "get_asset_queued_events",
        Call("get", "/assets/{asset}/queuedEvents"),
        200,
        Call("get", "/assets/{asset}/queuedEvents", params={"before": "soon"}),
        422,
    ),
    Row(
        "get_dag_asset_queued_event",
        Call("get", "/dags/etl/assets/{asset}/queuedEvents"),
        200,
        Call("get", "/dags/etl/assets/0/queuedEvents"),
        404,
    ),
    Row(
        "delete_asset_queued_events",
        Call("delete", "/assets/{asset}/queuedEvents"),
        204,
        Call("delete", "/assets/0/queuedEvents"),
        404,
        "user",
    ),
    Row(
        "delete_dag_asset_queued_events",
        Call("delete", "/dags/etl/assets/queuedEvents"),
        204,
        Call("delete", "/dags/etl/assets/queuedEvents", params={"before": "soon"}),
        422,
        "user",
    ),
    Row(
        "delete_dag_asset_queued_event",
        Call("delete", "/dags/etl/assets/{asset}/queuedEvents"),
        204,
        Call("delete", "/dags/nope/assets/{asset}/queuedEvents"),
        404,
        "user",
    ),
    Row(
        "get_dag_asset_queued_events",
        Call("get", "/dags/etl/assets/queuedEvents"),
        200,
        Call("get", "/dags/nope/assets/queuedEvents"),
        404,
    ),
]
BELOW = {"viewer": None, "user": "viewer", "op": "user"}


@pytest.fixture(autouse=True)
def _gated_endpoints_open(orch_settings):
    """The configuration and connection tests are off by default (their gates have tests of
    their own, tests/dagruns/api/rest/test_site_info.py and test_connection_test.py)."""
    orch_settings.expose_config = "True"
    orch_settings.test_connection = "Enabled"


def send(api: Api, call: Call, world: dict[str, Any]):
    path = call.path.format(
        import_error=world["import_error"].pk,
        event=world["event"].pk,
        backfill=world["backfill"].pk,
        asset=world["asset"].pk,
        alias=world["alias"].pk,
    )
    kwargs: dict[str, Any] = {"params": call.params or None}
    if call.method != "get":
        kwargs["raw"] = call.raw
        body = call.body
        if isinstance(body, dict):  # "{asset}" in a body: the world's asset id
            body = {k: world["asset"].pk if v == "{asset}" else v for k, v in body.items()}
        return api.call(call.method, path, body, **kwargs)
    return api.call("get", path, **kwargs)


@pytest.fixture
def world(world):
    """The shared world, plus a backfill of `etl` (to read, pause and cancel) and a DAG with a
    schedule, `daily`, to create backfills of."""
    from dagruns.models import Backfill, DagModel
    from dagruns.sdk import DAG, EmptyOperator
    from tests.builders import START, T0, store

    with DAG("daily", schedule="@daily", start_date=START, catchup=False) as dag:
        EmptyOperator(task_id="a")
    store(dag)
    backfill = Backfill.objects.create(
        dag=DagModel.objects.get(dag_id="etl"), from_date=T0, to_date=T0
    )
    return {**world, "backfill": backfill}


@pytest.fixture
def viewer(world):
    """The viewer persona, with `etl` among its favourites (something to unfavorite)."""
    from dagruns.models import DagFavorite

    user = persona("viewer")
    DagFavorite.objects.create(user=user, dag_id="etl")
    return Api(issue_token(user))


def test_the_table_covers_every_operation_of_the_openapi_document():
    document = json.loads(Client().get("/api/v2/openapi.json").content)
    operations = {op["operationId"] for ops in document["paths"].values() for op in ops.values()}
    assert operations == {row.op for row in ROWS}


@pytest.fixture
def personas(request):
    """The persona fixtures by role name, made only when asked for."""

    class Lazy(dict):
        def __missing__(self, key):
            name = {None: "stranger"}.get(key, key)
            self[key] = request.getfixturevalue(name)
            return self[key]

    return Lazy()


@pytest.mark.parametrize("row", ROWS, ids=[r.op for r in ROWS])
def test_it_succeeds_for_a_caller_with_the_role_it_needs(row, world, personas):
    caller = personas[row.role or "viewer"]
    response = send(caller, row.ok, world)
    assert response.status_code == row.ok_status, response.content


@pytest.mark.parametrize("row", ROWS, ids=[r.op for r in ROWS])
def test_it_refuses_a_bad_input_with_a_client_error(row, world, admin):
    response = send(admin, row.bad, world)
    assert response.status_code == row.bad_status, response.content
    if response.status_code != 405:
        assert "detail" in response.json()


@pytest.mark.parametrize("row", [r for r in ROWS if r.role], ids=[r.op for r in ROWS if r.role])
def test_it_answers_401_without_credentials(row, world, nobody):
    response = send(nobody, row.ok, world)
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("row", [r for r in ROWS if r.role], ids=[r.op for r in ROWS if r.role])
def test_it_answers_403_to_a_signed_in_user_without_the_role(row, world, personas):
    lower = BELOW[row.role]
    caller = personas[lower]  # None: the stranger, who has no role at all
    response = send(caller, row.ok, world)
    assert response.status_code == 403, response.content
