from datetime import datetime

from dagruns.sdk import DAG, EmptyOperator, Param, dag, task
from dagruns.sdk.params import DagParam


def test_calling_the_function_builds_a_dag_named_after_it(isolated_registry):
    @dag(schedule="@daily", start_date=datetime(2024, 1, 1), tags=["x"])
    def nightly():
        """Loads the nightly data."""
        EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")

    built = nightly()
    assert isinstance(built, DAG)
    assert built.dag_id == "nightly"
    assert built.task_ids == ["a", "b"]
    assert built.doc_md == "Loads the nightly data."
    assert built.timetable.summary == "@daily"
    assert isolated_registry == [built]


def test_bare_decorator_and_explicit_dag_id():
    @dag
    def bare():
        pass

    @dag("explicit_id")
    def named():
        pass

    assert bare().dag_id == "bare"
    assert named().dag_id == "explicit_id"


def test_fileloc_is_the_calling_file():
    @dag
    def located():
        pass

    assert located().fileloc == __file__


def test_function_arguments_become_dag_params_with_their_defaults():
    received = {}

    @dag(params={"limit": Param(10, type="integer")})
    def with_args(source="s3", limit=5):
        received.update(source=source, limit=limit)

    built = with_args()
    assert dict(built.params) == {"limit": 5, "source": "s3"}
    assert built.params.get_param("limit").schema == {"type": "integer"}
    assert isinstance(received["source"], DagParam)


def test_call_arguments_override_function_defaults():
    @dag
    def configurable(n=1):
        pass

    assert configurable(n=3).params["n"] == 3


def test_dag_params_passed_to_tasks_resolve_at_run_time(fake_ti):
    @dag
    def pipeline(who="world"):
        @task
        def greet(name):
            return f"hello {name}"

        greet(who)

    built = pipeline()
    greet_task = built.get_task("greet")
    context = {"ti": fake_ti, "params": {"who": "ada"}}
    greet_task.render_template_fields(context)
    assert greet_task.execute(context) == "hello ada"
