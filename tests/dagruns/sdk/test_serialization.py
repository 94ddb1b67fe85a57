import json
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from dagruns.sdk import (
    DAG,
    SERIALIZATION_VERSION,
    AirflowDagCycleException,
    AirflowException,
    BashOperator,
    BranchPythonOperator,
    EmptyOperator,
    Param,
    PythonOperator,
    SerializedOperator,
    ShortCircuitOperator,
    TaskGroup,
    dag_structure_hash,
    deserialize_dag,
    serialize_dag,
    task,
    validate_params,
)
from dagruns.sdk.serialization import json_safe


def notify(context):
    return None


def rich_dag(tmp_path=None):
    @task(multiple_outputs=True)
    def extract():
        return {"rows": 1}

    with DAG(
        "rich",
        description="A rich DAG",
        doc_md="# Rich",
        schedule="@daily",
        start_date=datetime(2024, 1, 1, tzinfo=ZoneInfo("Europe/Amsterdam")),
        end_date=datetime(2025, 1, 1),
        catchup=True,
        max_active_runs=2,
        max_active_tasks=4,
        dagrun_timeout=timedelta(hours=1),
        default_args={
            "owner": "data",
            "retries": 2,
            "retry_delay": timedelta(minutes=1),
            "on_failure_callback": notify,
        },
        params={
            "limit": Param(10, type="integer", minimum=1, description="Row limit"),
            "mode": "full",
        },
        tags=["b", "a"],
        on_failure_callback=notify,
        is_paused_upon_creation=False,
        fileloc="/dags/rich.py",
    ) as dag:
        start = EmptyOperator(task_id="start")
        data = extract()
        with TaskGroup("transform", tooltip="Transforms", ui_color="#eee") as transform:
            clean = BashOperator(
                task_id="clean", bash_command="echo {{ ds }}", env={"ROWS": data["rows"]}
            )
            with TaskGroup("inner", prefix_group_id=False):
                PythonOperator(
                    task_id="py", python_callable=print, op_kwargs={"x": data}, priority_weight=5
                )
        choose = BranchPythonOperator(task_id="choose", python_callable=lambda: "end")
        gate = ShortCircuitOperator(
            task_id="gate", python_callable=lambda: True, ignore_downstream_trigger_rules=False
        )
        end = EmptyOperator(
            task_id="end", trigger_rule="none_failed_min_one_success", weight_rule="upstream"
        )
        start >> data >> transform >> choose >> [end, gate]
        clean >> dag.get_task("py")
    return dag


def test_it_has_the_documented_shape_and_is_json():
    data = serialize_dag(rich_dag())
    json.dumps(data)
    for key in (
        "__version",
        "dag_id",
        "fileloc",
        "description",
        "doc_md",
        "schedule",
        "timezone",
        "start_date",
        "end_date",
        "catchup",
        "max_active_runs",
        "max_active_tasks",
        "dagrun_timeout",
        "default_args",
        "params",
        "tags",
        "owner",
        "is_paused_upon_creation",
        "has_on_success_callback",
        "has_on_failure_callback",
        "tasks",
        "edges",
        "task_group",
    ):
        assert key in data, key
    assert data["__version"] == SERIALIZATION_VERSION == 1


def test_dag_level_values():
    data = serialize_dag(rich_dag())
    assert data["schedule"] == {"type": "cron", "expression": "0 0 * * *", "preset": "@daily"}
    assert data["timezone"] == "Europe/Amsterdam"
    assert data["start_date"] == "2023-12-31T23:00:00+00:00"
    assert data["end_date"] == "2025-01-01T00:00:00+00:00"
    assert data["dagrun_timeout"] == 3600.0
    assert data["default_args"] == {
        "owner": "data",
        "retries": 2,
        "retry_delay": 60.0,
        "on_failure_callback": "tests.dagruns.sdk.test_serialization.notify",
    }
    assert data["params"]["limit"] == {
        "default": 10,
        "has_default": True,
        "description": "Row limit",
        "schema": {"type": "integer", "minimum": 1},
    }
    assert data["tags"] == ["a", "b"]
    assert data["owner"] == "data"
    assert (data["has_on_failure_callback"], data["has_on_success_callback"]) == (True, False)


def test_tasks_are_in_topological_order_with_ties_by_id():
    ids = [entry["task_id"] for entry in serialize_dag(rich_dag())["tasks"]]
    assert ids == ["start", "extract", "transform.clean", "py", "choose", "end", "gate"]


def test_edges_are_sorted_pairs():
    edges = serialize_dag(rich_dag())["edges"]
    assert edges == sorted(edges)
    assert ["extract", "transform.clean"] in edges
    assert ["transform.clean", "py"] in edges


def test_task_entries_carry_what_the_scheduler_needs():
    tasks = {entry["task_id"]: entry for entry in serialize_dag(rich_dag())["tasks"]}
    clean = tasks["transform.clean"]
    assert clean["task_type"] == "BashOperator"
    assert clean["operator_module"] == "dagruns.sdk.operators.bash"
    assert clean["label"] == "clean"
    assert clean["task_group_id"] == "transform"
    assert clean["template_values"] == {
        "bash_command": "echo {{ ds }}",
        "env": {"ROWS": {"__xcomarg": {"task_id": "extract", "key": "rows"}}},
        "cwd": None,
    }
    assert clean["retries"] == 2 and clean["retry_delay"] == 60.0 and clean["owner"] == "data"
    assert clean["has_on_failure_callback"] is True
    assert tasks["py"]["task_group_id"] == "transform.inner"
    assert tasks["py"]["label"] == "py"
    assert tasks["extract"]["custom_operator_name"] == "@task"
    assert tasks["extract"]["multiple_outputs"] is True
    assert tasks["start"]["inherits_from_empty_operator"] is True
    assert tasks["choose"]["is_branch"] is True
    assert tasks["gate"]["is_short_circuit"] is True
    assert tasks["gate"]["ignore_downstream_trigger_rules"] is False
    assert tasks["end"]["trigger_rule"] == "none_failed_min_one_success"
    # "end" weighs in its ancestors (upstream rule), "start" its descendants; "py" weighs 5.
    assert tasks["end"]["priority_weight_total"] == 1 + (1 + 1 + 1 + 5 + 1)
    assert tasks["start"]["priority_weight_total"] == 1 + (1 + 1 + 5 + 1 + 1 + 1)
    assert tasks["start"]["downstream_task_ids"] == ["extract"]
    assert tasks["start"]["params"]["mode"]["default"] == "full"


def test_the_executor_a_task_asks_for_is_stored_and_read_back():
    with DAG("executors", default_args={"executor": "celery"}) as dag:
        EmptyOperator(task_id="on_celery")
        EmptyOperator(task_id="on_local", executor="local")
        EmptyOperator(task_id="on_default", default_args={"executor": None})
    data = serialize_dag(dag)
    assert {t["task_id"]: t["executor"] for t in data["tasks"]} == {
        "on_celery": "celery",
        "on_local": "local",
        "on_default": None,
    }
    rebuilt = deserialize_dag(json.loads(json.dumps(data)))
    assert rebuilt.get_task("on_celery").executor == "celery"
    assert rebuilt.get_task("on_default").executor is None
    assert serialize_dag(rebuilt) == data


def test_task_group_tree_keeps_insertion_order():
    group = serialize_dag(rich_dag())["task_group"]
    assert group["group_id"] is None
    assert group["children"][:2] == ["start", "extract"]
    transform = group["children"][2]
    assert transform["group_id"] == "transform"
    assert transform["tooltip"] == "Transforms"
    assert transform["children"][0] == "transform.clean"
    inner = transform["children"][1]
    assert (inner["group_id"], inner["label"], inner["prefix_group_id"]) == (
        "transform.inner",
        "inner",
        False,
    )
    assert inner["children"] == ["py"]


def test_round_trip_is_exact():
    data = serialize_dag(rich_dag())
    rebuilt = deserialize_dag(json.loads(json.dumps(data)))
    assert serialize_dag(rebuilt) == data


def test_deserialized_tasks_keep_their_type_and_refuse_to_run():
    rebuilt = deserialize_dag(serialize_dag(rich_dag()))
    clean = rebuilt.get_task("transform.clean")
    assert isinstance(clean, SerializedOperator)
    assert clean.task_type == "BashOperator"
    assert clean.bash_command == "echo {{ ds }}"
    assert clean.upstream_task_ids == {"extract"}
    assert clean.task_group.group_id == "transform"
    assert rebuilt.timezone == ZoneInfo("Europe/Amsterdam")
    assert rebuilt.get_task("end").priority_weight_total == 10
    with pytest.raises(AirflowException, match="re-imports the DAG file"):
        clean.execute({})
    with pytest.raises(AirflowException, match="re-import"):
        rebuilt.on_failure_callback({})


def test_serialized_params_feed_validate_params():
    data = serialize_dag(rich_dag())
    assert validate_params(data["params"], {"limit": 3}) == {"limit": 3, "mode": "full"}


def test_doc_md_file_content_is_stored(tmp_path):
    (tmp_path / "doc.md").write_text("# From file")
    data = serialize_dag(DAG("docs", doc_md="doc.md", fileloc=str(tmp_path / "d.py")))
    assert data["doc_md"] == "# From file"
    assert serialize_dag(deserialize_dag(data)) == data


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (None, None),
        ("@once", {"type": "once"}),
        ("15 3 * * 1", {"type": "cron", "expression": "15 3 * * 1", "preset": None}),
        (timedelta(minutes=90), {"type": "delta", "seconds": 5400.0}),
    ],
)
def test_schedules_round_trip(schedule, expected):
    data = serialize_dag(DAG("s", schedule=schedule))
    assert data["schedule"] == expected
    assert serialize_dag(deserialize_dag(data)) == data


def test_a_fixed_offset_timezone_round_trips():
    data = serialize_dag(
        DAG(
            "tz", start_date=datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))
        )
    )
    assert data["timezone"] == "-05:30"
    assert data["start_date"] == "2024-01-01T05:30:00+00:00"
    assert serialize_dag(deserialize_dag(data)) == data


def test_a_cyclic_dag_cannot_be_serialized():
    with DAG("cyclic") as dag:
        a, b = EmptyOperator(task_id="a"), EmptyOperator(task_id="b")
        a >> b >> a
    with pytest.raises(AirflowDagCycleException):
        serialize_dag(dag)


def test_an_unknown_version_is_refused():
    data = serialize_dag(DAG("v"))
    data["__version"] = 99
    with pytest.raises(AirflowException, match="version 99"):
        deserialize_dag(data)


def test_structure_hash_ignores_fileloc_and_tracks_changes():
    first = serialize_dag(DAG("h", fileloc="/a.py"))
    moved = serialize_dag(DAG("h", fileloc="/b.py"))
    changed = serialize_dag(DAG("h", fileloc="/a.py", max_active_runs=1))
    assert dag_structure_hash(first) == dag_structure_hash(moved)
    assert dag_structure_hash(first) != dag_structure_hash(changed)
    assert len(dag_structure_hash(first)) == 64


class Opaque:
    pass


def test_json_safe_handles_awkward_values():
    assert json_safe({1: {3, 1, 2}, "t": (1, "x")}) == {"1": [1, 2, 3], "t": [1, "x"]}
    assert json_safe(datetime(2024, 1, 1, tzinfo=UTC)) == "2024-01-01T00:00:00+00:00"
    assert json_safe(float("nan")) == "nan"
    assert json_safe(b"bytes") == "bytes"
    assert json_safe(Opaque()) == "<tests.dagruns.sdk.test_serialization.Opaque>"
    assert json_safe(json_safe({"a": [notify]})) == json_safe({"a": [notify]})
