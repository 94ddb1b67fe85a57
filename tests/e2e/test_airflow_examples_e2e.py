"""DAG files in the style of Airflow 3's own documentation and example DAGs (written here, not
copied) run unchanged through `manage.py dag_processor --once` and `manage.py dags test`, both
real subprocesses on this test's database, and end in the states Airflow gives them.

Each file spells everything the Airflow way: `airflow.sdk`, the standard provider's operators,
Airflow 2 paths where the docs still use them, pendulum dates."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings

from dagruns.domain.logs import ti_log_path
from dagruns.models import AssetEvent, DagImportError, DagRun, TaskInstance, XCom
from tests.processes import database_url

# Not repeated on PostgreSQL: what these tests add is the Airflow spelling of DAG files (imports,
# operators, templates, pendulum dates), which no database sees. What those runs do in the
# database (mapping over XComs, branches, teardowns, trigger timetables, asset events) is the
# engine's, and its suite runs on PostgreSQL in the Celery pass (tests/e2e/test_mapping_e2e,
# test_setup_teardown_e2e, test_branching_e2e, test_schedules_e2e, test_assets_e2e); `dags test`
# itself runs on PostgreSQL in tests/dagruns/management/commands/test_dags_and_tasks_engine.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.same_on_every_database]

ROOT = Path(__file__).resolve().parents[2]

TASKFLOW_TUTORIAL = """
import json

import pendulum

from airflow.sdk import dag, task


@dag(
    schedule=None,
    start_date=pendulum.datetime(2021, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example"],
)
def af_taskflow_tutorial():
    @task()
    def extract():
        return json.loads('{"1001": 301.27, "1002": 433.21, "1003": 502.22}')

    @task(multiple_outputs=True)
    def transform(order_data_dict: dict):
        return {"total_order_value": round(sum(order_data_dict.values()), 2)}

    @task()
    def load(total_order_value: float):
        print(f"Total order value is: {total_order_value:.2f}")

    order_summary = transform(extract())
    load(order_summary["total_order_value"])


af_taskflow_tutorial()
"""

CLASSIC_TEMPLATING = """
from datetime import datetime, timedelta
from textwrap import dedent

from airflow.models.dag import DAG
from airflow.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator

with DAG(
    "af_classic_templating",
    default_args={"retries": 0, "retry_delay": timedelta(minutes=5)},
    description="A simple tutorial DAG",
    schedule=timedelta(days=1),
    start_date=datetime(2021, 1, 1),
    catchup=False,
    params={"greeting": "hello"},
    tags=["example"],
) as dag:
    print_date = BashOperator(task_id="print_date", bash_command="date")

    templated = BashOperator(
        task_id="templated",
        depends_on_past=False,
        bash_command=dedent(
            '''
            {% for i in range(2) %}
                echo "{{ ds }}"
                echo "{{ macros.ds_add(ds, 7)}}"
            {% endfor %}
            echo "{{ params.greeting }} {{ ds_nodash }}"
            '''
        ),
    )

    def show(ds, templates_dict, **kwargs):
        return f"{ds}|{templates_dict['when']}|{kwargs['params']['greeting']}"

    python_templated = PythonOperator(
        task_id="python_templated",
        python_callable=show,
        templates_dict={"when": "{{ logical_date.strftime('%Y/%m/%d') }}"},
    )

    print_date >> [templated, python_templated]

    # pre_execute= / post_execute= callables around execute(), as in Airflow's
    # example_outlet_event_extra (post_execute sets the outlet's event extra).
    from airflow.sdk import Asset

    hooked_asset = Asset("s3://bucket/hooked")

    def after(context, result):
        context["ti"].xcom_push(key="post", value=result)
        context["outlet_events"][hooked_asset].extra = {"rows": 3}

    BashOperator(
        task_id="hooked",
        bash_command="echo {{ ds }}",
        outlets=[hooked_asset],
        pre_execute=lambda context: context["ti"].xcom_push(key="pre", value=context["ds"]),
        post_execute=after,
    )
"""

BRANCHING = """
import pendulum

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Label, task
from airflow.utils.trigger_rule import TriggerRule

with DAG(
    dag_id="af_branching",
    start_date=pendulum.datetime(2021, 1, 1, tz="UTC"),
    catchup=False,
    schedule="@daily",
    tags=["example", "example2"],
) as dag:
    run_this_first = EmptyOperator(task_id="run_this_first")
    options = ["branch_a", "branch_b", "branch_c", "branch_d"]

    @task.branch(task_id="branching")
    def choose(choices):
        return f"branch_{choices[2][-1]}"

    branching = choose(choices=options)
    run_this_first >> branching

    join = EmptyOperator(
        task_id="join", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS
    )
    for option in options:
        t = EmptyOperator(task_id=option)
        follow = EmptyOperator(task_id="follow_" + option)
        branching >> Label(option) >> t >> follow >> join
"""

MAPPING_WITH_REDUCE = """
from datetime import datetime

from airflow.sdk import DAG, task
from airflow.providers.standard.operators.bash import BashOperator

with DAG(dag_id="af_mapping", schedule=None, start_date=datetime(2022, 3, 4)) as dag:

    @task
    def make_list():
        return [1, 2, 3]

    @task
    def add_one(x: int):
        return x + 1

    @task
    def sum_it(values):
        total = sum(values)
        print(f"Total was {total}")
        return total

    @task
    def plus_ten(x: int):
        return x + 10

    added = add_one.expand(x=make_list())
    total = sum_it(added)
    plus_ten.expand(x=added)  # second-order: maps over add_one's instances

    echoes = BashOperator.partial(task_id="echo", do_xcom_push=True).expand(
        bash_command=["echo a", "echo b"]
    )
    total >> echoes
"""

SETUP_TEARDOWN = """
import pendulum

from airflow.sdk import dag, setup, task, teardown


@dag(start_date=pendulum.datetime(2021, 1, 1, tz="UTC"), catchup=False, schedule=None)
def af_setup_teardown():
    @setup
    def create_cluster():
        print("cluster up")
        return "cluster-1"

    @task
    def run_query(cluster):
        raise RuntimeError(f"the query failed on {cluster}")

    @task
    def after_query():
        print("never runs")

    @teardown
    def delete_cluster(cluster):
        print(f"deleting {cluster}")

    cluster = create_cluster()
    query = run_query(cluster)
    query >> after_query()
    query >> delete_cluster(cluster)


af_setup_teardown()
"""

TIMETABLE = """
import pendulum

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG
from airflow.timetables.trigger import CronTriggerTimetable

with DAG(
    dag_id="af_timetable",
    schedule=CronTriggerTimetable("30 9 * * 1-5", timezone="Europe/Amsterdam"),
    start_date=pendulum.datetime(2024, 1, 1, tz="Europe/Amsterdam"),
    catchup=False,
) as dag:
    BashOperator(
        task_id="when",
        bash_command="echo {{ logical_date.isoformat() }} {{ data_interval_start == data_interval_end }}",
    )
"""

SHORT_CIRCUIT_AND_FAIL = """
import pendulum

from airflow.exceptions import AirflowFailException
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, BaseNotifier, chain, task


class Shout(BaseNotifier):
    template_fields = ("message",)

    def __init__(self, message):
        super().__init__()
        self.message = message

    def notify(self, context):
        print("NOTIFIED:", self.message, "|", context["exception"])

with DAG(
    dag_id="af_short_circuit",
    start_date=pendulum.datetime(2021, 1, 1, tz="UTC"),
    catchup=False,
    schedule=None,
) as dag:

    @task.short_circuit()
    def check_condition(condition):
        return condition

    ds_true = [EmptyOperator(task_id=f"true_{i}") for i in (1, 2)]
    ds_false = [EmptyOperator(task_id=f"false_{i}") for i in (1, 2)]
    chain(check_condition.override(task_id="condition_is_true")(condition=True), *ds_true)
    chain(check_condition.override(task_id="condition_is_false")(condition=False), *ds_false)

    @task(retries=3, on_failure_callback=Shout("{{ ti.task_id }} of {{ dag.dag_id }}"))
    def give_up():
        raise AirflowFailException("no point in retrying")

    give_up()
"""


def manage(home: Path, *argv: str) -> subprocess.CompletedProcess:
    """`manage.py ARGV` as a separate process on this test's database and folders."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORCH_")}
    env.update(
        ORCH_HOME=str(home),
        ORCH_DATABASE_URL=database_url(),
        ORCH_DAGS_FOLDER=str(home / "dags"),
        ORCH_LOG_DIR=str(home / "logs"),
        ORCH_SECRET_KEY=settings.SECRET_KEY,
        ORCH_LOAD_EXAMPLES="false",
    )
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *argv],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def airflow_dags(tmp_path, orch_settings):
    """Write Airflow-spelled DAG files, parse them with the real processor, run one with
    `dags test`; returns the finished run (its logs readable here with ti_log_path)."""
    home = tmp_path / "home"
    orch_settings.log_dir = home / "logs"
    (home / "dags").mkdir(parents=True)

    def run(name: str, body: str, dag_id: str, *test_args: str, expect_rc: int = 0) -> DagRun:
        (home / "dags" / name).write_text(textwrap.dedent(body).lstrip())
        parsed = manage(home, "dag_processor", "--once")
        assert parsed.returncode == 0, parsed.stderr
        errors = list(DagImportError.objects.values_list("filename", "stack_trace"))
        assert not errors, errors
        done = manage(home, "dags", "test", dag_id, *test_args, "--timeout", "240")
        assert done.returncode == expect_rc, done.stdout + done.stderr
        return DagRun.objects.get(dag_id=dag_id)

    return run


def states(run: DagRun) -> dict[str, str | None]:
    return {
        (f"{task_id}[{map_index}]" if map_index >= 0 else task_id): state
        for task_id, map_index, state in TaskInstance.objects.filter(dag_run=run).values_list(
            "task_id", "map_index", "state"
        )
    }


def xcom(run: DagRun, task_id: str, key: str = "return_value", map_index: int = -1):
    return XCom.objects.get(dag_run=run, task_id=task_id, key=key, map_index=map_index).value


def test_the_taskflow_tutorial_passes_its_data_along(airflow_dags):
    run = airflow_dags("tutorial_taskflow.py", TASKFLOW_TUTORIAL, "af_taskflow_tutorial")
    assert run.state == "success"
    assert states(run) == {"extract": "success", "transform": "success", "load": "success"}
    assert xcom(run, "transform", key="total_order_value") == 1236.7


def test_classic_operators_render_their_templates_and_run_their_execute_hooks(airflow_dags):
    run = airflow_dags(
        "classic.py", CLASSIC_TEMPLATING, "af_classic_templating", "2024-02-27T00:00:00+00:00"
    )
    assert run.state == "success"
    assert states(run) == {
        "print_date": "success",
        "templated": "success",
        "python_templated": "success",
        "hooked": "success",
    }
    # BashOperator pushes its last line of output; PythonOperator its return value.
    assert xcom(run, "templated") == "hello 20240227"
    assert xcom(run, "python_templated") == "2024-02-27|2024/02/27|hello"
    assert xcom(run, "hooked", key="pre") == "2024-02-27"
    assert xcom(run, "hooked", key="post") == "2024-02-27"
    assert AssetEvent.objects.get(asset__uri="s3://bucket/hooked").extra == {"rows": 3}


def test_branching_runs_the_chosen_branch_and_the_join(airflow_dags):
    run = airflow_dags("branching.py", BRANCHING, "af_branching")
    assert run.state == "success"
    expected = {"run_this_first": "success", "branching": "success", "join": "success"}
    for option in "abcd":
        chosen = "success" if option == "c" else "skipped"
        expected[f"branch_{option}"] = chosen
        expected[f"follow_branch_{option}"] = chosen
    assert states(run) == expected


def test_mapping_over_an_upstream_xcom_reduces_and_maps_again_over_its_results(airflow_dags):
    run = airflow_dags("mapping.py", MAPPING_WITH_REDUCE, "af_mapping")
    assert run.state == "success"
    assert states(run) == {
        "make_list": "success",
        "add_one[0]": "success",
        "add_one[1]": "success",
        "add_one[2]": "success",
        "sum_it": "success",
        "plus_ten[0]": "success",
        "plus_ten[1]": "success",
        "plus_ten[2]": "success",
        "echo[0]": "success",
        "echo[1]": "success",
    }
    assert xcom(run, "sum_it") == 9
    assert [xcom(run, "plus_ten", map_index=i) for i in (0, 1, 2)] == [12, 13, 14]
    assert [xcom(run, "echo", map_index=i) for i in (0, 1)] == ["a", "b"]


def test_a_teardown_runs_after_its_work_failed_and_the_run_fails(airflow_dags):
    run = airflow_dags("setup_teardown.py", SETUP_TEARDOWN, "af_setup_teardown", expect_rc=1)
    assert states(run) == {
        "create_cluster": "success",
        "run_query": "failed",
        "after_query": "upstream_failed",
        "delete_cluster": "success",
    }
    assert run.state == "failed"


def test_a_cron_trigger_timetable_runs_at_the_logical_date_given(airflow_dags):
    run = airflow_dags("timetable.py", TIMETABLE, "af_timetable", "2024-03-04T09:30:00+01:00")
    assert run.state == "success"
    assert states(run) == {"when": "success"}
    # A trigger timetable's run has an empty data interval at its logical date.
    assert xcom(run, "when") == "2024-03-04T08:30:00+00:00 True"


def test_short_circuits_skip_downstream_and_a_fail_exception_does_not_retry_nor_notify_twice(
    airflow_dags,
):
    run = airflow_dags("short_circuit.py", SHORT_CIRCUIT_AND_FAIL, "af_short_circuit", expect_rc=1)
    assert states(run) == {
        "condition_is_true": "success",
        "true_1": "success",
        "true_2": "success",
        "condition_is_false": "success",
        "false_1": "skipped",
        "false_2": "skipped",
        "give_up": "failed",
    }
    give_up = TaskInstance.objects.get(dag_run=run, task_id="give_up")
    assert give_up.try_number == 1
    assert run.state == "failed"
    # A BaseNotifier as the callback: its template field rendered with the callback's context.
    log = ti_log_path(give_up).read_text()
    assert "NOTIFIED: give_up of af_short_circuit | no point in retrying" in log
