"""The task-side API run for real: Variable, Connection, BaseHook and get_current_context in
task code, through the runner, its supervisor and the Execution API to the database."""

from __future__ import annotations

import pytest

from dagruns.actions import xcoms
from dagruns.domain.logs import ti_log_path
from dagruns.models import AuditEvent, Connection, TaskInstance, Variable

pytestmark = pytest.mark.django_db(transaction=True)

IMPORTS = """
from dagruns.sdk import BaseHook, Connection, Variable, get_current_context
"""


def xcom(run, task_id: str):
    return xcoms.get_xcom(run, task_id, "return_value").value


def log_of(engine, run, task_id: str) -> str:
    return ti_log_path(engine.ti(run, task_id)).read_text()


@pytest.fixture
def warehouse(db):
    conn = Connection(
        conn_id="warehouse", conn_type="postgres", host="db.example", login="etl", port=5432
    )
    conn.password = "pw-e2e-secret"
    conn.extra = {"sslmode": "require"}
    conn.save()
    return conn


def test_a_task_sets_gets_and_deletes_variables_and_each_write_is_audited(engine):
    engine.add(
        "variables.py",
        IMPORTS
        + """
with DAG("variables", schedule=None, start_date=START) as dag:
    @task
    def writer():
        Variable.set("region", "eu", description="set by writer")
        Variable.set("limits", {"rows": 3}, serialize_json=True)
        Variable.set("scratch", "temporary")
        Variable.delete("scratch")
        Variable.delete("never_existed")  # nothing to delete: not an error, as in Airflow
        return {
            "region": Variable.get("region"),
            "rows": Variable.get("limits", deserialize_json=True)["rows"],
            "scratch": Variable.get("scratch", default="gone"),
        }

    @task
    def reader(_):
        return Variable.get("region") + "/" + Variable.get("gone", default_var="default")

    reader(writer())
""",
    )
    engine.parse()
    run = engine.run_dag("variables")

    assert engine.states(run) == {"writer": "success", "reader": "success"}
    assert xcom(run, "writer") == {"region": "eu", "rows": 3, "scratch": "gone"}
    assert xcom(run, "reader") == "eu/default"
    region = Variable.objects.get(key="region")
    assert (region.val, region.description) == ("eu", "set by writer")
    assert not Variable.objects.filter(key="scratch").exists()
    events = AuditEvent.objects.filter(
        task_id="writer", dag_id="variables", event__startswith="variable_"
    ).order_by("pk")
    assert [(e.event, e.extra["key"]) for e in events] == [
        ("variable_create", "region"),
        ("variable_create", "limits"),
        ("variable_create", "scratch"),
        ("variable_delete", "scratch"),
    ]
    assert {e.run_id for e in events} == {run.run_id}
    assert {e.owner for e in events} == {"task:variables.writer"}


def test_a_task_reads_a_connection_and_its_password_is_masked_in_the_log(engine, warehouse):
    engine.add(
        "connections.py",
        IMPORTS
        + """
with DAG("connections", schedule=None, start_date=START) as dag:
    @task
    def use_it():
        conn = Connection.get("warehouse")
        same = BaseHook.get_connection("warehouse")
        print("password:", conn.password)
        return {
            "host": conn.host,
            "port": conn.port,
            "extra": conn.extra_dejson,
            "uri": same.get_uri(),
        }

    use_it()
""",
    )
    engine.parse()
    run = engine.run_dag("connections")

    assert engine.states(run) == {"use_it": "success"}
    got = xcom(run, "use_it")
    assert (got["host"], got["port"], got["extra"]) == ("db.example", 5432, {"sslmode": "require"})
    assert got["uri"] == "postgres://etl:pw-e2e-secret@db.example:5432/?sslmode=require"
    log = log_of(engine, run, "use_it")
    assert "password: ***" in log
    assert "pw-e2e-secret" not in log


def test_get_current_context_in_taskflow_and_classic_tasks(engine):
    engine.add(
        "current.py",
        IMPORTS
        + """
def classic():
    context = get_current_context()
    return [context["task"].task_id, context["ti"].try_number, context["run_id"]]

with DAG("current", schedule=None, start_date=START) as dag:
    @task
    def flow():
        context = get_current_context()
        return [context["ti"].task_id, context["dag"].dag_id, context["task_instance_key_str"]]

    flow() >> PythonOperator(task_id="classic", python_callable=classic)
""",
    )
    engine.parse()
    run = engine.run_dag("current")

    assert engine.states(run) == {"flow": "success", "classic": "success"}
    key_str = f"current__flow__{run.logical_date:%Y%m%d}"
    assert xcom(run, "flow") == ["flow", "current", key_str]
    assert xcom(run, "classic") == ["classic", 1, run.run_id]


def test_a_variable_a_task_sets_under_a_sensitive_key_is_masked_in_its_log(engine):
    engine.add(
        "secret.py",
        IMPORTS
        + """
with DAG("secret", schedule=None, start_date=START) as dag:
    @task
    def store():
        Variable.set("api_token", "tok-9876543")
        print("stored", "tok-9876543")

    store()
""",
    )
    engine.parse()
    run = engine.run_dag("secret")

    assert engine.states(run) == {"store": "success"}
    log = log_of(engine, run, "store")
    assert "stored ***" in log
    assert "tok-9876543" not in log


def test_missing_variable_and_connection_fail_the_task_naming_them(engine):
    engine.add(
        "missing.py",
        IMPORTS
        + """
with DAG("missing", schedule=None, start_date=START) as dag:
    @task
    def no_variable():
        Variable.get("no_such_key")

    @task
    def no_connection():
        Connection.get("no_such_conn")

    no_variable()
    no_connection()
""",
    )
    engine.parse()
    run = engine.run_dag("missing")

    assert engine.states(run) == {"no_variable": "failed", "no_connection": "failed"}
    log = log_of(engine, run, "no_variable")
    assert (
        "VariableNotFound: VARIABLE_NOT_FOUND: {'message': 'Variable no_such_key not found'}" in log
    )
    log = log_of(engine, run, "no_connection")
    assert "AirflowNotFoundException: The conn_id `no_such_conn` isn't defined" in log


def test_a_generating_dag_file_sees_its_task_in_the_parsing_context_only_in_the_runner(engine):
    engine.add(
        "generated.py",
        """
from dagruns.sdk import get_parsing_context

SEEN = list(get_parsing_context())
for name in ("gen_a", "gen_b"):
    if SEEN[0] is not None and SEEN[0] != name:
        continue  # the runner needs one DAG: skip building the others
    with DAG(name, schedule=None, start_date=START):
        @task
        def which():
            return SEEN

        which()
""",
    )
    engine.parse()  # the processor's parsing context is empty: both DAGs exist
    run = engine.run_dag("gen_b")

    assert engine.states(run) == {"which": "success"}
    assert xcom(run, "which") == ["gen_b", "which"]


def test_mapped_instances_keep_the_tasks_display_name(engine):
    engine.add(
        "mapped_named.py",
        """
with DAG("mapped_named", schedule=None, start_date=START) as dag:
    @task(task_display_name="Double it")
    def double(x):
        return 2 * x

    double.expand(x=[1, 2, 3])
""",
    )
    engine.parse()
    run = engine.run_dag("mapped_named")

    rows = TaskInstance.objects.filter(dag_run=run, task_id="double")
    assert sorted(rows.values_list("map_index", "state", "task_display_name")) == [
        (0, "success", "Double it"),
        (1, "success", "Double it"),
        (2, "success", "Double it"),
    ]


def test_the_task_side_api_in_airflows_spelling(engine, warehouse):
    engine.add(
        "airflow_spelling.py",
        """
from airflow.hooks.base import BaseHook as Airflow2BaseHook
from airflow.models import Variable as Airflow2Variable
from airflow.operators.python import PythonOperator as Airflow2PythonOperator
from airflow.operators.python import get_current_context as airflow2_context
from airflow.providers.standard.hooks.filesystem import FSHook
from airflow.sdk import DAG as AirflowDAG
from airflow.sdk import BaseHook, Connection, Context, Variable, get_current_context, task
from airflow.sdk.exceptions import AirflowRuntimeError


def classic(**_):
    context: Context = airflow2_context()
    return context["task"].task_display_name


with AirflowDAG("airflow_spelling", schedule=None, start_date=START) as dag:
    @task
    def airflow3():
        Variable.set("spelled", "yes")
        try:
            Variable.get("absent")
        except AirflowRuntimeError as error:
            missing = error.error.error
        return [
            Variable.get("spelled"),
            Airflow2Variable.get("absent", default_var="d"),
            Connection.get("warehouse").host,
            BaseHook.get_connection("warehouse").login,
            Airflow2BaseHook.get_connection("warehouse").port,
            FSHook.conn_type,
            get_current_context()["ti"].task_id,
            str(missing),
        ]

    airflow3() >> Airflow2PythonOperator(
        task_id="classic", python_callable=classic, task_display_name="Classic task"
    )
""",
    )
    engine.parse()
    run = engine.run_dag("airflow_spelling")

    assert engine.states(run) == {"airflow3": "success", "classic": "success"}
    assert xcom(run, "airflow3") == [
        "yes",
        "d",
        "db.example",
        "etl",
        5432,
        "fs",
        "airflow3",
        "VARIABLE_NOT_FOUND",
    ]
    assert xcom(run, "classic") == "Classic task"
