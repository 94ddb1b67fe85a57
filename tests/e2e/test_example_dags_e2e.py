"""The example DAGs that ship with the project run to their expected states."""

from __future__ import annotations

import pytest

from dagruns.models import TaskInstanceHistory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def examples(engine, orch_settings):
    orch_settings.load_examples = True
    engine.parse()
    return engine


@pytest.mark.executor_sensitive
def test_the_taskflow_etl_succeeds_and_passes_its_data_along(examples):
    run = examples.run_dag("example_taskflow_etl")
    assert run.state == "success"
    assert set(examples.states(run).values()) == {"success"}
    from dagruns.models import XCom

    total = XCom.objects.get(dag_run=run, task_id="transform", key="total_order_value")
    assert total.value == 1236.7


def test_the_branching_example_runs_one_path_and_the_join(examples):
    run = examples.run_dag("example_branching")
    states = examples.states(run)
    assert run.state == "success"
    assert sorted(states[p] for p in ("path_a", "path_b", "path_c")) == [
        "skipped",
        "skipped",
        "success",
    ]
    assert states["join"] == "success"


def test_the_retries_example_retries_flaky_fails_the_broken_and_cleans_up(examples):
    run = examples.run_dag("example_retries", timeout=90)
    states = examples.states(run)
    assert run.state == "success"  # the leaf clean_up succeeded (Airflow's rule)
    assert states == {"flaky": "success", "always_fails": "failed", "clean_up": "success"}
    flaky = examples.ti(run, "flaky")
    assert flaky.try_number == 3
    assert TaskInstanceHistory.objects.filter(task_instance=flaky).count() == 3


def test_the_fan_out_example_succeeds(examples):
    run = examples.run_dag("example_fan_out", timeout=120)
    assert run.state == "success"
    assert set(examples.states(run).values()) == {"success"}
    assert len(examples.states(run)) == 52


def test_the_params_example_uses_its_defaults_and_a_given_conf(examples):
    run = examples.run_dag("example_params", conf={"name": "Ada", "loud": True})
    assert run.state == "success"
    from dagruns.models import XCom

    assert XCom.objects.get(dag_run=run, task_id="report").value == "HELLO ADA IN GREEN"


def test_the_task_groups_example_succeeds(examples):
    run = examples.run_dag("example_task_groups")
    assert run.state == "success"
    assert "quality.schemas.orders" in examples.states(run)
