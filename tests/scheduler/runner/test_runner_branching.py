"""The runner end to end: branch and short-circuit outcomes, and task callbacks."""

from __future__ import annotations

import pytest

from scheduler.runner.supervisor import EXIT_OK

pytestmark = pytest.mark.slow

HEADER = """
from datetime import datetime
from dagruns.sdk import DAG, task, EmptyOperator, BranchPythonOperator, ShortCircuitOperator

with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
"""


def dag_with(body: str) -> str:
    return HEADER + "\n".join("    " + line for line in body.strip("\n").splitlines()) + "\n"


def states(t) -> dict[str, str | None]:
    return dict(t.dag_run.task_instances.values_list("task_id", "state"))


def test_a_branch_reports_its_choice_and_the_other_branch_is_skipped(make_try):
    t = make_try(
        dag_with("""
@task.branch
def choose():
    return "left"
choose() >> [EmptyOperator(task_id="left"), EmptyOperator(task_id="right")]
"""),
        "choose",
    )

    assert t.run().returncode == EXIT_OK
    assert states(t) == {"choose": "success", "left": None, "right": "skipped"}
    assert t.xcom() == "left"


def test_a_branch_python_operator_choosing_several_tasks(make_try):
    t = make_try(
        dag_with("""
pick = BranchPythonOperator(task_id="pick", python_callable=lambda: ["a", "b"])
pick >> [EmptyOperator(task_id="a"), EmptyOperator(task_id="b"), EmptyOperator(task_id="c")]
"""),
        "pick",
    )

    assert t.run().returncode == EXIT_OK
    assert states(t) == {"pick": "success", "a": None, "b": None, "c": "skipped"}


def test_a_branch_choosing_a_task_that_is_not_downstream_fails(make_try):
    t = make_try(
        dag_with("""
@task.branch
def choose():
    return "elsewhere"
choose() >> EmptyOperator(task_id="left")
"""),
        "choose",
    )

    assert t.run().returncode == EXIT_OK
    assert states(t) == {"choose": "failed", "left": None}
    assert "chose ['elsewhere'], which is not a direct downstream task" in t.log()


def test_a_falsy_short_circuit_skips_everything_downstream(make_try):
    t = make_try(
        dag_with("""
@task.short_circuit
def check():
    return False
check() >> EmptyOperator(task_id="next") >> EmptyOperator(task_id="after")
"""),
        "check",
    )

    assert t.run().returncode == EXIT_OK
    assert states(t) == {"check": "success", "next": "skipped", "after": "skipped"}


def test_a_falsy_short_circuit_respecting_trigger_rules_skips_only_direct_downstream(make_try):
    t = make_try(
        dag_with("""
check = ShortCircuitOperator(
    task_id="check", python_callable=lambda: 0, ignore_downstream_trigger_rules=False
)
check >> EmptyOperator(task_id="next") >> EmptyOperator(task_id="after")
"""),
        "check",
    )

    assert t.run().returncode == EXIT_OK
    assert states(t) == {"check": "success", "next": "skipped", "after": None}


def test_a_truthy_short_circuit_skips_nothing(make_try):
    t = make_try(
        dag_with("""
@task.short_circuit
def check():
    return True
check() >> EmptyOperator(task_id="next")
"""),
        "check",
    )

    assert t.run().returncode == EXIT_OK
    assert states(t) == {"check": "success", "next": None}


CALLBACKS = """
def say(name):
    def callback(context):
        exc = context.get("exception")
        print(f"{name} for {context['ti'].task_id}" + (f" ({type(exc).__name__})" if exc else ""))
    return callback

def explode(context):
    raise RuntimeError("callback bug")

CALLBACKS = dict(
    on_execute_callback=say("on_execute"),
    on_success_callback=[explode, say("on_success")],
    on_failure_callback=say("on_failure"),
    on_retry_callback=say("on_retry"),
)
"""


def test_success_runs_execute_and_success_callbacks_and_a_raising_one_changes_nothing(make_try):
    t = make_try(
        dag_with(
            CALLBACKS
            + """
@task(**CALLBACKS)
def good():
    print("executing")
good()
"""
        ),
        "good",
    )

    assert t.run().returncode == EXIT_OK
    assert t.refresh().state == "success"
    log = t.log()
    assert log.index("on_execute for good") < log.index("executing") < log.index("on_success")
    assert "Error when executing on_success_callback" in log
    assert "RuntimeError: callback bug" in log
    assert "on_failure" not in log and "on_retry" not in log


def test_a_failure_with_retries_left_runs_the_retry_callback(make_try):
    t = make_try(
        dag_with(
            CALLBACKS
            + """
@task(retries=1, **CALLBACKS)
def bad():
    raise KeyError("missing")
bad()
"""
        ),
        "bad",
    )

    assert t.run().returncode == EXIT_OK
    assert t.refresh().state == "up_for_retry"
    log = t.log()
    assert "on_retry for bad (KeyError)" in log
    assert "on_failure for" not in log


def test_the_last_failure_runs_the_failure_callback(make_try):
    t = make_try(
        dag_with(
            CALLBACKS
            + """
@task(**CALLBACKS)
def bad():
    raise KeyError("missing")
bad()
"""
        ),
        "bad",
    )

    assert t.run().returncode == EXIT_OK
    assert t.refresh().state == "failed"
    log = t.log()
    assert "on_failure for bad (KeyError)" in log
    assert "on_retry for" not in log


SKIPPER = """
from airflow.models.baseoperator import BaseOperator
from airflow.models.skipmixin import SkipMixin

class Skipper(BaseOperator, SkipMixin):
    def __init__(self, skip_ids, **kwargs):
        super().__init__(**kwargs)
        self.skip_ids = skip_ids

    def execute(self, context):
        dag = context["dag"]
        self.skip(context["ti"], [dag.get_task(t) for t in self.skip_ids])
        return "not pushed"
"""


def test_a_skip_mixin_operator_succeeds_and_its_skips_are_reported(make_try):
    t = make_try(
        SKIPPER
        + dag_with("""
gate = Skipper(task_id="gate", skip_ids=["b", "after_b"])
b = EmptyOperator(task_id="b")
gate >> [EmptyOperator(task_id="a"), b]
b >> EmptyOperator(task_id="after_b")
"""),
        "gate",
    )

    assert t.run().returncode == EXIT_OK
    assert states(t) == {"gate": "success", "a": None, "b": "skipped", "after_b": "skipped"}
    assert t.xcom() is None  # execute did not return: no return value, as in Airflow
    assert "Skipping downstream tasks ['b', 'after_b']" in t.log()


def test_a_skip_of_a_task_that_is_not_downstream_fails_the_task_naming_it(make_try):
    t = make_try(
        SKIPPER
        + dag_with("""
up = EmptyOperator(task_id="up")
gate = Skipper(task_id="gate", skip_ids=["up"])
up >> gate >> EmptyOperator(task_id="a")
"""),
        "gate",
    )

    assert t.run().returncode == EXIT_OK
    assert states(t) == {"up": None, "gate": "failed", "a": None}
    assert "asked to skip ['up'], which is not a task downstream of it" in t.log()
