"""Every key of Airflow 3's task context (its `Context` TypedDict and templates reference),
with the value Airflow defines for it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dagruns.sdk import DAG, BashOperator
from tests.scheduler.runner.test_context import RUN, FakeComms, make_context

# Airflow 3's Context keys, less those only some tasks get: `exception` and `reason`
# (callbacks) and `templates_dict` (PythonOperator).
AIRFLOW_KEYS = {
    "conn",
    "dag",
    "dag_run",
    "data_interval_end",
    "data_interval_start",
    "outlet_events",
    "ds",
    "ds_nodash",
    "expanded_ti_count",
    "inlets",
    "inlet_events",
    "logical_date",
    "macros",
    "map_index_template",
    "outlets",
    "params",
    "prev_data_interval_start_success",
    "prev_data_interval_end_success",
    "prev_start_date_success",
    "prev_end_date_success",
    "run_id",
    "start_date",
    "task",
    "task_reschedule_count",
    "task_instance",
    "task_instance_key_str",
    "test_mode",
    "ti",
    "triggering_asset_events",
    "try_number",
    "ts",
    "ts_nodash",
    "ts_nodash_with_tz",
    "var",
}

PREVIOUS = {
    "data_interval_start": "2024-03-03T06:00:00Z",
    "data_interval_end": "2024-03-04T06:00:00Z",
    "start_date": "2024-03-04T06:00:05Z",
    "end_date": "2024-03-04T06:10:00Z",
}


@pytest.fixture
def comms() -> FakeComms:
    return FakeComms()


@pytest.fixture
def dag() -> DAG:
    with DAG("etl", schedule=None, start_date=datetime(2024, 1, 1), auto_register=False) as dag:
        BashOperator(task_id="load", bash_command="echo {{ ds }}")
    return dag


def with_previous(dag, comms, previous: dict | None, run: dict | None = None) -> dict:
    return make_context(dag, comms, run, previous=previous)


def test_a_run_with_a_logical_date_has_every_airflow_key(dag, comms):
    context = make_context(dag, comms)
    assert set(context) >= AIRFLOW_KEYS


def test_prev_success_keys_come_from_the_previous_successful_run(dag, comms):
    context = with_previous(dag, comms, PREVIOUS)

    assert context["prev_data_interval_start_success"] == datetime(2024, 3, 3, 6, tzinfo=UTC)
    assert context["prev_data_interval_end_success"] == datetime(2024, 3, 4, 6, tzinfo=UTC)
    assert context["prev_start_date_success"] == datetime(2024, 3, 4, 6, 0, 5, tzinfo=UTC)
    assert context["prev_end_date_success"] == datetime(2024, 3, 4, 6, 10, tzinfo=UTC)


def test_prev_success_keys_are_none_without_a_previous_successful_run(dag, comms):
    context = with_previous(dag, comms, None)

    for key in (
        "prev_data_interval_start_success",
        "prev_data_interval_end_success",
        "prev_start_date_success",
        "prev_end_date_success",
    ):
        assert context[key] is None


def test_without_a_logical_date_only_the_date_free_prev_keys_exist(dag, comms):
    run = {**RUN, "logical_date": None, "data_interval_start": None, "data_interval_end": None}
    context = with_previous(dag, comms, None, run)

    assert context["prev_start_date_success"] is None
    assert "prev_data_interval_start_success" not in context


def test_asset_keys_are_empty_for_a_task_without_assets(dag, comms):
    context = make_context(dag, comms)

    assert context["inlets"] == [] and context["outlets"] == []
    assert dict(context["triggering_asset_events"]) == {}
    assert list(context["outlet_events"]) == []
    assert list(context["inlet_events"]) == []
    with pytest.raises(KeyError, match="expected an Asset or an AssetAlias"):
        context["outlet_events"]["s3://bucket/key"]


def test_plain_values_match_airflows_definitions(dag, comms):
    context = make_context(dag, comms)

    assert context["task_reschedule_count"] == 0
    assert context["test_mode"] is False
    assert context["expanded_ti_count"] is None
    assert context["map_index_template"] is None
    assert context["try_number"] == 2


def test_var_is_airflow_3s_dict_of_value_and_json(dag, comms):
    comms.variables.update({"region": "eu", "limits": '{"rows": 4}'})
    context = make_context(dag, comms)

    assert context["var"]["value"]["region"] == "eu"
    assert context["var"]["json"]["limits"] == {"rows": 4}
    assert context["var"]["value"].get("missing", "d") == "d"
    task = dag.get_task("load")
    assert task.render_template("{{ var.value.region }}-{{ var.json.limits.rows }}", context) == (
        "eu-4"
    )


def test_conn_renders_in_templates(dag, comms):
    comms.connections["warehouse"] = {"conn_id": "warehouse", "conn_type": "http", "host": "h"}
    context = make_context(dag, comms)

    rendered = dag.get_task("load").render_template("{{ conn.warehouse.host }}", context)

    assert rendered == "h"


@pytest.mark.parametrize("key", ["task_state_store", "asset_state_store"])
def test_airflow_3_3_state_stores_are_there_and_refuse_every_use_naming_themselves(dag, comms, key):
    """A task asking for a state store gets a value that fails it with a clear error at first
    use, not a silent None that breaks later with an AttributeError."""
    store = make_context(dag, comms)[key]
    with pytest.raises(NotImplementedError, match=f"context\\['{key}'\\].*not supported"):
        store.set("k", "v")
    with pytest.raises(NotImplementedError, match=key):
        store["k"]
