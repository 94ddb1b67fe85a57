"""The Airflow context a task gets, built from the claim answer, with a fake supervisor."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dagruns.sdk import (
    DAG,
    AirflowNotFoundException,
    BashOperator,
    Param,
    ParamValidationError,
    macros,
)
from scheduler.runner.comms import RequestFailed
from scheduler.runner.context import (
    Connection,
    DagRunInfo,
    PreviousDagRun,
    RuntimeTaskInstance,
    XComPullError,
    XComPushError,
    build_context,
)


class FakeComms:
    """Answers like the supervisor would, from dicts; records every request."""

    def __init__(self) -> None:
        self.xcoms: dict[tuple[str, str, str, str, int], Any] = {}
        self.variables: dict[str, str] = {}
        self.connections: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.fail_with: int | None = None

    def request(self, op: str, **args: Any) -> Any:
        self.requests.append((op, args))
        if self.fail_with is not None:
            raise RequestFailed(op, self.fail_with, None, f"server said {self.fail_with}")
        if op == "get_xcom":
            key = (args["dag_id"], args["run_id"], args["task_id"], args["key"], args["map_index"])
            if key not in self.xcoms:
                raise RequestFailed(op, 404, None, "not found")
            return self.xcoms[key]
        if op == "set_xcom":
            key = (args["dag_id"], args["run_id"], args["task_id"], args["key"], args["map_index"])
            self.xcoms[key] = args["value"]
            return None
        if op == "get_variable":
            if args["key"] not in self.variables:
                raise RequestFailed(op, 404, None, "not found")
            return self.variables[args["key"]]
        if op == "get_connection":
            if args["conn_id"] not in self.connections:
                raise RequestFailed(op, 404, None, "not found")
            return self.connections[args["conn_id"]]
        raise AssertionError(op)


RUN = {
    "dag_id": "etl",
    "run_id": "scheduled__2024-03-05T06:00:00+00:00",
    "logical_date": "2024-03-05T06:00:00Z",
    "data_interval_start": "2024-03-04T06:00:00Z",
    "data_interval_end": "2024-03-05T06:00:00Z",
    "run_after": "2024-03-05T06:00:00Z",
    "start_date": "2024-03-05T06:00:01.5Z",
    "run_type": "scheduled",
    "conf": {"limit": 7, "extra": "passed through"},
}


@pytest.fixture
def comms() -> FakeComms:
    return FakeComms()


@pytest.fixture
def dag() -> DAG:
    with DAG(
        "etl",
        schedule=None,
        start_date=datetime(2024, 1, 1),
        params={"limit": Param(5, type="integer", minimum=1), "mode": "full"},
        auto_register=False,
    ) as dag:
        BashOperator(task_id="load", bash_command="echo {{ ds }}", params={"mode": "task"})
    return dag


def make_context(
    dag: DAG,
    comms: FakeComms,
    run: dict[str, Any] | None = None,
    previous: dict[str, Any] | None = None,
) -> dict:
    task = dag.get_task("load")
    dag_run = DagRunInfo.from_api(run or RUN)
    ti = RuntimeTaskInstance(
        comms,
        dag_id="etl",
        run_id=dag_run.run_id,
        task_id="load",
        try_number=2,
        max_tries=3,
        task=task,
    )
    return build_context(
        task=task,
        dag=dag,
        dag_run=dag_run,
        ti=ti,
        comms=comms,
        previous=PreviousDagRun.from_api(previous),
    )


def test_dates_come_from_the_runs_logical_date_in_utc(dag, comms):
    context = make_context(dag, comms)

    assert context["logical_date"] == datetime(2024, 3, 5, 6, tzinfo=UTC)
    assert context["ds"] == "2024-03-05"
    assert context["ds_nodash"] == "20240305"
    assert context["ts"] == "2024-03-05T06:00:00+00:00"
    assert context["ts_nodash"] == "20240305T060000"
    assert context["ts_nodash_with_tz"] == "20240305T060000+0000"
    assert context["data_interval_start"] == datetime(2024, 3, 4, 6, tzinfo=UTC)
    assert context["data_interval_end"] == datetime(2024, 3, 5, 6, tzinfo=UTC)
    assert context["task_instance_key_str"] == "etl__load__20240305"


def test_the_run_the_dag_and_the_task_are_there(dag, comms):
    context = make_context(dag, comms)

    run = context["dag_run"]
    assert (run.dag_id, run.run_id, run.run_type) == ("etl", RUN["run_id"], "scheduled")
    assert run.conf == RUN["conf"]
    assert run.start_date == datetime(2024, 3, 5, 6, 0, 1, 500000, tzinfo=UTC)
    assert context["run_id"] == RUN["run_id"]
    assert context["dag"] is dag
    assert context["task"] is dag.get_task("load")
    assert context["ti"] is context["task_instance"]
    assert (context["ti"].try_number, context["ti"].max_tries) == (2, 3)
    assert context["macros"] is macros


def test_a_run_without_logical_date_has_no_date_keys(dag, comms):
    run = {**RUN, "logical_date": None, "data_interval_start": None, "data_interval_end": None}

    context = make_context(dag, comms, run)

    for key in (
        "logical_date",
        "ds",
        "ds_nodash",
        "ts",
        "ts_nodash",
        "prev_data_interval_start_success",
        "prev_data_interval_end_success",
    ):
        assert key not in context
    # Airflow 3 keys the instance by run id when there is no logical date.
    assert context["task_instance_key_str"] == f"etl__load__{RUN['run_id']}"
    assert context["data_interval_start"] is None
    assert context["data_interval_end"] is None


def test_params_merge_dag_task_and_conf_over_defaults(dag, comms):
    context = make_context(dag, comms)

    assert context["params"] == {"limit": 7, "mode": "task", "extra": "passed through"}


def test_a_conf_value_breaking_a_params_schema_is_refused(dag, comms):
    with pytest.raises(ParamValidationError, match="limit"):
        make_context(dag, comms, {**RUN, "conf": {"limit": 0}})


def test_templates_render_with_the_context(dag, comms):
    context = make_context(dag, comms)
    task = dag.get_task("load")

    rendered = task.render_template(
        "{{ ds }} {{ macros.ds_add(ds, 1) }} {{ params.limit }} {{ dag_run.conf.extra }}",
        context,
    )

    assert rendered == "2024-03-05 2024-03-06 7 passed through"


def test_xcom_pull_of_one_task_gives_the_value_and_a_default_when_missing(dag, comms):
    ti = make_context(dag, comms)["ti"]
    comms.xcoms[("etl", RUN["run_id"], "extract", "return_value", -1)] = {"rows": 3}

    assert ti.xcom_pull(task_ids="extract") == {"rows": 3}
    assert ti.xcom_pull(task_ids="missing") is None
    assert ti.xcom_pull(task_ids="missing", default="fallback") == "fallback"


def test_xcom_pull_of_a_list_of_tasks_gives_a_list(dag, comms):
    ti = make_context(dag, comms)["ti"]
    comms.xcoms[("etl", RUN["run_id"], "a", "k", -1)] = 1
    comms.xcoms[("etl", RUN["run_id"], "b", "k", -1)] = 2

    assert ti.xcom_pull(task_ids=["a", "b", "c"], key="k") == [1, 2, None]


def test_xcom_pull_without_task_ids_reads_the_tasks_own(dag, comms):
    ti = make_context(dag, comms)["ti"]
    ti.xcom_push("progress", 50)

    assert ti.xcom_pull(key="progress") == 50


def test_an_xcom_pull_error_other_than_not_found_raises(dag, comms):
    ti = make_context(dag, comms)["ti"]
    comms.fail_with = 403

    with pytest.raises(XComPullError, match="server said 403"):
        ti.xcom_pull(task_ids="extract")


def test_xcom_push_refuses_values_that_are_not_json(dag, comms):
    ti = make_context(dag, comms)["ti"]

    with pytest.raises(XComPushError, match="not JSON-serializable"):
        ti.xcom_push("when", datetime(2024, 1, 1))
    with pytest.raises(XComPushError, match="not JSON-serializable"):
        ti.xcom_push("nan", float("nan"))
    assert comms.requests == []


def test_an_object_storage_path_travels_in_airflows_serde_form_and_comes_back(dag, comms):
    from dagruns.sdk.io import ObjectStoragePath

    ti = make_context(dag, comms)["ti"]
    path = ObjectStoragePath("file://my_fs@/data/out.parquet")
    ti.xcom_push("paths", {"main": path, "all": [path, "x"]})

    stored = comms.xcoms[("etl", RUN["run_id"], "load", "paths", -1)]
    assert stored["main"] == {
        "__classname__": "airflow.sdk.io.path.ObjectStoragePath",
        "__version__": 1,
        "__data__": {"path": "file://my_fs@/data/out.parquet", "conn_id": "my_fs", "kwargs": {}},
    }
    pulled = ti.xcom_pull(key="paths")
    assert pulled["main"] == path and pulled["main"].conn_id == "my_fs"
    assert pulled["all"] == [path, "x"]


def test_xcom_push_too_large_carries_the_servers_message(dag, comms):
    ti = make_context(dag, comms)["ti"]
    comms.fail_with = 413

    with pytest.raises(XComPushError, match="too large: server said 413"):
        ti.xcom_push("big", "x")


def test_variables_by_attribute_get_and_json(dag, comms):
    context = make_context(dag, comms)
    comms.variables.update({"region": "eu", "settings": '{"retries": 3}'})
    var = context["var"]

    assert var.value.region == "eu"
    assert var.value.get("missing", "default") == "default"
    assert var.json.settings == {"retries": 3}
    assert var.json.get("missing") is None
    with pytest.raises(KeyError, match="Variable missing not found"):
        _ = var.value.missing


def test_variables_render_in_templates(dag, comms):
    context = make_context(dag, comms)
    comms.variables["region"] = "eu"

    assert dag.get_task("load").render_template("{{ var.value.region }}", context) == "eu"


def test_connections_by_attribute_with_extra_dejson(dag, comms):
    context = make_context(dag, comms)
    comms.connections["my_db"] = {
        "conn_id": "my_db",
        "conn_type": "postgres",
        "host": "db.example",
        "schema": "warehouse",
        "login": "etl",
        "password": "pw-12345",
        "port": 5432,
        "extra": '{"sslmode": "require"}',
    }

    conn = context["conn"].my_db

    assert isinstance(conn, Connection)
    assert (conn.conn_type, conn.host, conn.schema, conn.login, conn.port) == (
        "postgres",
        "db.example",
        "warehouse",
        "etl",
        5432,
    )
    assert conn.password == "pw-12345"
    assert conn.extra_dejson == {"sslmode": "require"}
    assert "pw-12345" not in repr(conn)
    assert context["conn"].get("nope") is None
    with pytest.raises(AirflowNotFoundException, match="The conn_id `nope` isn't defined"):
        _ = context["conn"].nope


def test_private_names_never_reach_the_api(dag, comms):
    context = make_context(dag, comms)

    with pytest.raises(AttributeError):
        _ = context["conn"].__wrapped__
    with pytest.raises(AttributeError):
        _ = context["var"].value._secret
    assert comms.requests == []
