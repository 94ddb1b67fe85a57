"""The engine's CLI in Airflow's shape: trigger, test, list-runs, states-for-dag-run, clear."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dagruns.models import DagRun, TaskInstance
from scheduler.processor.loop import DagProcessor
from tests.builders import write

pytestmark = pytest.mark.django_db(transaction=True)

DAG_FILE = """
from datetime import datetime
from dagruns.sdk import DAG, BashOperator, Param, PythonOperator

def shout(params=None):
    print("HELLO", params["name"].upper())
    return params["name"]

with DAG("cli_dag", schedule=None, start_date=datetime(2024, 1, 1),
         params={"name": Param("world", type="string", minLength=1)}) as dag:
    first = PythonOperator(task_id="first", python_callable=shout)
    # Airflow's test mode: the context's test_mode, and AIRFLOW_TEST_MODE for what the task runs.
    second = BashOperator(
        task_id="second",
        bash_command="echo second says {{ ds }} test_mode={{ test_mode }} env=$AIRFLOW_TEST_MODE"
        " foo=$FOO name={{ params.name }}",
    )
    first >> second
"""

# What `tasks test` gives a task of its run: the logical date and the data interval.
WHEN_DAG_FILE = """
from datetime import datetime
from dagruns.sdk import DAG, BashOperator

with DAG("when_dag", schedule=None, start_date=datetime(2024, 1, 1)):
    BashOperator(
        task_id="when",
        bash_command="echo logical={{ dag_run.logical_date }} end={{ dag_run.data_interval_end }}",
    )
"""


def run(*argv: str) -> str:
    out = StringIO()
    call_command(*argv, stdout=out)
    return out.getvalue()


@pytest.fixture
def parsed(dags_folder, orch_settings, tmp_path):
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.home = tmp_path / "home"
    write(dags_folder, "cli_dag.py", DAG_FILE)
    DagProcessor().run_once()


def test_dags_trigger_creates_a_queued_manual_run_with_conf(parsed):
    rows = json.loads(
        run(
            "dags",
            "trigger",
            "cli_dag",
            "--conf",
            '{"name": "ada"}',
            "--run-id",
            "my_run",
            "-o",
            "json",
        )
    )
    assert rows[0]["run_id"] == "my_run" and rows[0]["run_type"] == "manual"
    run_row = DagRun.objects.get(run_id="my_run")
    assert run_row.conf == {"name": "ada"} and run_row.state == "queued"


def test_dags_trigger_refuses_conf_that_breaks_the_params_schema(parsed):
    with pytest.raises(CommandError, match="name"):
        run("dags", "trigger", "cli_dag", "--conf", '{"name": ""}')
    assert not DagRun.objects.exists()


def test_dags_trigger_refuses_malformed_conf_json(parsed):
    with pytest.raises(CommandError, match="not valid JSON"):
        run("dags", "trigger", "cli_dag", "--conf", "{name:")


def test_dags_trigger_on_an_unknown_dag_is_a_clear_error(parsed):
    with pytest.raises(CommandError, match="DAG 'nope' not found"):
        run("dags", "trigger", "nope")


def test_dags_test_runs_the_whole_dag_in_the_foreground_and_prints_logs(parsed):
    out = run("dags", "test", "cli_dag", "2024-03-01", "--conf", '{"name": "grace"}')
    assert "HELLO GRACE" in out
    assert "second says 2024-03-01 test_mode=False env= foo= name=grace\n" in out
    assert "finished: success" in out
    run_row = DagRun.objects.get()
    assert run_row.state == "success" and run_row.triggered_by == "test"


REMOTE_DAG_FILE = """
from datetime import datetime
from dagruns.sdk import DAG, BashOperator

with DAG("remote_dag", schedule=None, start_date=datetime(2024, 1, 1),
         default_args={"executor": "celery"}) as dag:
    BashOperator(task_id="far", bash_command="echo far away") >> BashOperator(
        task_id="near", bash_command="echo close by", executor="local")
"""


@pytest.fixture
def remote_parsed(dags_folder, orch_settings, tmp_path):
    """A DAG whose tasks ask for the Celery executor, parsed with ORCH_EXECUTOR=local,celery."""
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.home = tmp_path / "home"
    orch_settings.executor = "local,celery"
    write(dags_folder, "remote_dag.py", REMOTE_DAG_FILE)
    DagProcessor().run_once()


def test_dags_test_runs_tasks_of_every_executor_here_without_a_worker(remote_parsed):
    """As Airflow's `dags test`: the whole DAG runs on this machine, whatever executor its tasks
    name; each try records the local executor, where it ran."""
    out = run("dags", "test", "remote_dag")
    assert "far away" in out and "close by" in out and "finished: success" in out
    assert set(TaskInstance.objects.values_list("task_id", "executor")) == {
        ("far", "local"),
        ("near", "local"),
    }


def test_tasks_test_runs_a_task_of_another_executor_here(remote_parsed):
    out = run("tasks", "test", "remote_dag", "far")
    assert "far away" in out and "finished: success" in out


def test_dags_list_runs_lists_newest_first_with_airflows_fields(parsed):
    run("dags", "trigger", "cli_dag", "--run-id", "older", "--logical-date", "2024-01-01")
    run("dags", "trigger", "cli_dag", "--run-id", "newer", "--logical-date", "2024-01-02")
    rows = json.loads(run("dags", "list-runs", "cli_dag", "-o", "json"))
    assert [r["run_id"] for r in rows] == ["newer", "older"]
    assert set(rows[0]) == {
        "dag_id",
        "run_id",
        "state",
        "run_type",
        "logical_date",
        "start_date",
        "end_date",
    }


def test_tasks_test_runs_one_task_in_test_mode_and_keeps_nothing(parsed):
    out = run(
        "tasks",
        "test",
        "cli_dag",
        "second",
        "2024-05-05",
        "--env-vars",
        '{"FOO": "bar"}',
        "--task-params",
        '{"name": "ada"}',
    )
    assert "second says 2024-05-05 test_mode=True env=True foo=bar name=ada\n" in out
    assert "finished: success" in out
    assert not DagRun.objects.exists()


def test_tasks_test_refuses_env_vars_or_task_params_that_are_not_json_objects(parsed):
    with pytest.raises(CommandError, match="--env-vars must be a JSON object"):
        run("tasks", "test", "cli_dag", "second", "--env-vars", "[1]")
    with pytest.raises(CommandError, match="--task-params is not valid JSON"):
        run("tasks", "test", "cli_dag", "second", "-t", "{name")
    assert not DagRun.objects.exists()


@pytest.fixture
def when_parsed(dags_folder, orch_settings, tmp_path):
    orch_settings.log_dir = tmp_path / "logs"
    orch_settings.home = tmp_path / "home"
    write(dags_folder, "when_dag.py", WHEN_DAG_FILE)
    DagProcessor().run_once()


@pytest.mark.parametrize("argument", [(), ("not-a-date",)])
def test_tasks_test_without_a_date_runs_without_a_logical_date_as_airflow_3(when_parsed, argument):
    out = run("tasks", "test", "when_dag", "when", *argument)
    assert "logical=None end=None\n" in out and "finished: success" in out
    assert not DagRun.objects.exists()


def test_tasks_test_with_a_date_runs_at_that_logical_date(when_parsed):
    out = run("tasks", "test", "when_dag", "when", "2024-05-05")
    assert "logical=2024-05-05 00:00:00+00:00 end=2024-05-05 00:00:00+00:00\n" in out


@pytest.mark.parametrize("argument", ["r1", "2024-01-01", "2024-01-01T00:00:00+00:00"])
def test_tasks_test_refuses_to_run_inside_an_existing_run_naming_it(when_parsed, argument):
    run("dags", "trigger", "when_dag", "--run-id", "r1", "--logical-date", "2024-01-01")
    with pytest.raises(CommandError, match="names the existing run 'r1' of DAG 'when_dag'"):
        run("tasks", "test", "when_dag", "when", argument)
    assert list(DagRun.objects.values_list("run_id", flat=True)) == ["r1"]


def test_tasks_test_names_an_unknown_task(parsed):
    with pytest.raises(CommandError, match="Task 'ghost' not found"):
        run("tasks", "test", "cli_dag", "ghost")


def test_states_for_dag_run_and_clear(parsed):
    run("dags", "test", "cli_dag")
    run_id = DagRun.objects.get().run_id
    rows = json.loads(run("tasks", "states-for-dag-run", "cli_dag", run_id, "-o", "json"))
    assert [(r["task_id"], r["state"], r["try_number"]) for r in rows] == [
        ("first", "success", 1),
        ("second", "success", 1),
    ]
    assert set(rows[0]) == {
        "dag_id",
        "run_id",
        "task_id",
        "map_index",
        "state",
        "try_number",
        "start_date",
        "end_date",
    }
    out = run("tasks", "clear", "cli_dag", "-t", "^first$", "-d", "-y")
    assert "Cleared 2 task instance(s)" in out
    assert set(TaskInstance.objects.values_list("state", flat=True)) == {None}
    assert DagRun.objects.get().state == "running"


def test_tasks_clear_without_confirmation_refuses_when_not_interactive(parsed):
    run("dags", "test", "cli_dag")
    with pytest.raises(CommandError, match="-y"):
        run("tasks", "clear", "cli_dag", "-t", "first")
    assert set(TaskInstance.objects.values_list("state", flat=True)) == {"success"}


def test_tasks_clear_with_a_bad_regex_names_it(parsed):
    with pytest.raises(CommandError, match="task regex"):
        run("tasks", "clear", "cli_dag", "-t", "(", "-y")
