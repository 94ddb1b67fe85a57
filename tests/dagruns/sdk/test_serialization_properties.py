"""Property: serialization round-trips exactly for any DAG the SDK can build."""

import json
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagruns.sdk import (
    DAG,
    BashOperator,
    EmptyOperator,
    Param,
    PythonOperator,
    TaskGroup,
    TriggerRule,
    WeightRule,
    dag_structure_hash,
    deserialize_dag,
    serialize_dag,
    task,
)

SCHEDULES = [
    None,
    "@once",
    "@hourly",
    "@daily",
    "*/15 2-4 * * 1-5",
    timedelta(hours=2),
    timedelta(seconds=90),
]
TIMEZONES = [
    UTC,
    ZoneInfo("Europe/Amsterdam"),
    ZoneInfo("America/New_York"),
    timezone(timedelta(hours=-5)),
]
KINDS = ["empty", "bash", "python", "taskflow"]

names = st.text(alphabet="abcdefghij_", min_size=1, max_size=6)
json_scalars = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8)
param_values = st.one_of(
    st.builds(lambda v: Param(v, type="integer"), st.integers(-5, 5)),
    st.builds(
        lambda v, d: Param(v, description=d, type="string"),
        st.text(max_size=5),
        st.none() | st.text(max_size=5),
    ),
    st.builds(lambda: Param(type=["null", "integer"])),
    json_scalars,
    st.lists(json_scalars, max_size=3),
)


@st.composite
def dag_specs(draw):
    group_count = draw(st.integers(0, 4))
    groups = [
        {
            "parent": draw(st.integers(-1, index - 1)),
            "prefix": draw(st.booleans()),
            "tooltip": draw(st.text(max_size=5)),
        }
        for index in range(group_count)
    ]
    task_count = draw(st.integers(1, 12))
    tasks = [
        {
            "kind": draw(st.sampled_from(KINDS)),
            "group": draw(st.integers(-1, group_count - 1)),
            "trigger_rule": draw(st.sampled_from(sorted(TriggerRule.all_triggers()))),
            "weight_rule": draw(st.sampled_from(sorted(WeightRule.all_weight_rules()))),
            "priority_weight": draw(st.integers(-3, 20)),
            "retries": draw(st.integers(0, 3)),
            "retry_delay": draw(st.integers(0, 600)),
            "pool": draw(st.sampled_from([None, "etl", "default_pool"])),
            "role": draw(st.sampled_from([None, "setup", "teardown"])),
            "params": draw(st.dictionaries(names, param_values, max_size=2)),
            "owner": draw(st.sampled_from(["airflow", "data", "ops"])),
        }
        for _ in range(task_count)
    ]
    # Edges only go from a lower to a higher index, so the graph stays acyclic.
    edges = draw(
        st.sets(
            st.tuples(st.integers(0, task_count - 1), st.integers(0, task_count - 1)).filter(
                lambda e: e[0] < e[1]
            ),
            max_size=task_count * 2,
        )
    )
    start = draw(
        st.none() | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1))
    )
    return {
        "groups": groups,
        "tasks": tasks,
        "edges": sorted(edges),
        "schedule": draw(st.sampled_from(SCHEDULES)),
        "start_date": start.replace(tzinfo=draw(st.sampled_from(TIMEZONES))) if start else None,
        "catchup": draw(st.booleans()),
        "max_active_runs": draw(st.integers(1, 32)),
        "params": draw(st.dictionaries(names, param_values, max_size=3)),
        "tags": draw(st.lists(names, max_size=3)),
        "default_args": draw(
            st.fixed_dictionaries({}, optional={"retries": st.integers(0, 5), "queue": names})
        ),
        "xcom_links": draw(st.booleans()),
    }


@task
def produce(*args, **kwargs):
    return None


def build(spec):
    with DAG(
        "generated",
        schedule=spec["schedule"],
        start_date=spec["start_date"],
        catchup=spec["catchup"],
        max_active_runs=spec["max_active_runs"],
        params=spec["params"],
        tags=spec["tags"],
        default_args=spec["default_args"],
        fileloc="/dags/generated.py",
        auto_register=False,
    ) as dag:
        groups = []
        for index, group_spec in enumerate(spec["groups"]):
            parent = groups[group_spec["parent"]] if group_spec["parent"] >= 0 else dag.task_group
            groups.append(
                TaskGroup(
                    f"g{index}",
                    parent_group=parent,
                    prefix_group_id=group_spec["prefix"],
                    tooltip=group_spec["tooltip"],
                )
            )
        operators = []
        for index, task_spec in enumerate(spec["tasks"]):
            upstream = operators[-1] if operators and spec["xcom_links"] else None
            kwargs = {
                "task_id": f"t{index}",
                "task_group": groups[task_spec["group"]] if task_spec["group"] >= 0 else None,
                "trigger_rule": task_spec["trigger_rule"],
                "weight_rule": task_spec["weight_rule"],
                "priority_weight": task_spec["priority_weight"],
                "retries": task_spec["retries"],
                "retry_delay": task_spec["retry_delay"],
                "pool": task_spec["pool"],
                "params": task_spec["params"],
                "owner": task_spec["owner"],
                "is_setup": task_spec["role"] == "setup",
                "is_teardown": task_spec["role"] == "teardown",
            }
            kind = task_spec["kind"]
            if kind == "empty":
                operator = EmptyOperator(**kwargs)
            elif kind == "bash":
                env = {"UP": upstream.output} if upstream else None
                operator = BashOperator(bash_command="echo {{ ds }}", env=env, **kwargs)
            elif kind == "python":
                op_kwargs = {"value": upstream.output["key"]} if upstream else {}
                operator = PythonOperator(python_callable=print, op_kwargs=op_kwargs, **kwargs)
            else:
                operator = produce.override(**kwargs)(
                    *([upstream.output] if upstream else [])
                ).operator
            operators.append(operator)
        for up, down in spec["edges"]:
            operators[up] >> operators[down]
    return dag


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dag_specs())
def test_serialize_deserialize_serialize_is_identity(spec):
    dag = build(spec)
    data = serialize_dag(dag)
    text = json.dumps(data)  # pure JSON types only
    rebuilt = deserialize_dag(json.loads(text))
    again = serialize_dag(rebuilt)
    assert again == data
    assert dag_structure_hash(again) == dag_structure_hash(data)
    assert sorted(rebuilt.task_dict) == sorted(dag.task_dict)
    for task_id, original in dag.task_dict.items():
        copy = rebuilt.get_task(task_id)
        assert copy.upstream_task_ids == original.upstream_task_ids
        assert copy.priority_weight_total == original.priority_weight_total
        assert copy.task_group.group_id == original.task_group.group_id
