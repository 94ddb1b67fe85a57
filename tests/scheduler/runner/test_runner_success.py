"""The runner end to end, in a real child process, against the real Execution API: tries that
succeed."""

from __future__ import annotations

import pytest

from dagruns.domain.tokens import issue_token
from dagruns.models import TaskInstanceHistory
from scheduler.runner.supervisor import EXIT_OK

pytestmark = pytest.mark.slow

HEADER = """
from datetime import datetime
from dagruns.sdk import DAG, task, BashOperator, PythonOperator, Param
"""


def test_a_successful_task_pushes_its_return_value_and_reports_success(make_try):
    t = make_try(
        HEADER
        + """
with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
    @task
    def compute():
        print("computing")
        return {"rows": 3, "ok": True}
    compute()
""",
        "compute",
    )

    result = t.run()

    assert result.returncode == EXIT_OK, result.stderr
    ti = t.refresh()
    assert ti.state == "success"
    assert t.xcom() == {"rows": 3, "ok": True}
    assert ti.end_date is not None and ti.duration is not None
    assert ti.cpu_time is not None and ti.cpu_time >= 0
    assert ti.peak_memory is not None and ti.peak_memory > 1024 * 1024
    log = t.log()
    assert "computing" in log
    assert "Marking task as SUCCESS" in log
    assert TaskInstanceHistory.objects.filter(task_instance=ti, state="success").exists()


def test_the_runner_never_imports_django(make_try):
    t = make_try(
        HEADER
        + """
with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
    @task
    def nothing():
        pass
    nothing()
""",
        "nothing",
    )

    result = t.run()

    assert result.returncode == EXIT_OK, result.stderr
    assert result.report["django"] is False


def test_taskflow_passes_a_value_from_one_task_to_the_next(make_try):
    source = (
        HEADER
        + """
with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
    @task
    def extract():
        return [1, 2, 3]

    @task
    def total(numbers):
        print("total is", sum(numbers))
        return sum(numbers)

    total(extract())
"""
    )
    first = make_try(source, "extract")
    assert first.run().returncode == EXIT_OK
    assert first.xcom() == [1, 2, 3]

    # The second task of the same run: queue it as the scheduler would after extract.
    second_ti = first.dag_run.task_instances.get(task_id="total")
    second_ti.state, second_ti.try_number = "queued", 1
    second_ti.save(update_fields=["state", "try_number"])
    workload = {
        **first.workload,
        "ti_id": str(second_ti.pk),
        "task_id": "total",
        "token": issue_token(second_ti.pk, 1),
    }
    second = type(first)(
        ti=second_ti, dag_run=first.dag_run, dag_file=first.dag_file, workload=workload
    )

    result = second.run()

    assert result.returncode == EXIT_OK, result.stderr
    assert second.refresh().state == "success"
    assert second.xcom() == 6
    assert "total is 6" in second.log()


def test_multiple_outputs_pushes_each_key_too(make_try):
    t = make_try(
        HEADER
        + """
with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
    @task(multiple_outputs=True)
    def pair():
        return {"left": 1, "right": "two"}
    pair()
""",
        "pair",
    )

    assert t.run().returncode == EXIT_OK
    assert t.xcom() == {"left": 1, "right": "two"}
    assert t.xcom("left") == 1
    assert t.xcom("right") == "two"


def test_context_templates_and_rendered_fields(make_try):
    t = make_try(
        HEADER
        + """
with DAG(
    "runner_test",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    params={"limit": Param(5, type="integer")},
):
    BashOperator(
        task_id="echo",
        bash_command=(
            "echo ds={{ ds }} next={{ macros.ds_add(ds, 1) }} limit={{ params.limit }} "
            "run={{ run_id }} try={{ ti.try_number }} conf={{ dag_run.conf.who }}"
        ),
    )
""",
        "echo",
        conf={"limit": 9, "who": "tester"},
    )

    result = t.run()

    assert result.returncode == EXIT_OK, result.stderr
    expected = (
        "ds=2024-01-01 next=2024-01-02 limit=9 run=scheduled__2024-01-01T00:00:00+00:00 "
        "try=1 conf=tester"
    )
    assert expected in t.log()
    ti = t.refresh()
    assert ti.rendered_fields["bash_command"] == expected.replace("ds=", "echo ds=", 1)
    assert t.xcom() == expected


def test_python_logging_lines_use_airflows_format(make_try):
    t = make_try(
        HEADER
        + """
import logging
log = logging.getLogger(__name__)

with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
    @task
    def talk():
        log.warning("careful now")
    talk()
""",
        "talk",
    )

    assert t.run().returncode == EXIT_OK
    line = next(line for line in t.log().splitlines() if "careful now" in line)
    assert line.startswith("[20")
    assert "WARNING - careful now" in line
    assert "{dag_0.py:" in line


def test_a_token_that_expires_mid_run_is_refreshed_by_the_heartbeat(make_try):
    t = make_try(
        HEADER
        + """
import time

with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
    @task
    def slow():
        time.sleep(2.2)
        return "still allowed"
    slow()
""",
        "slow",
        heartbeat_interval=0.2,
    )

    # At most two seconds of life: without the Refreshed-API-Token swap, the XCom push
    # after 2.2 s and the final state report would be refused with 401.
    result = t.run(token_factory=lambda: issue_token(t.ti.pk, 1, ttl=2))

    assert result.returncode == EXIT_OK, result.stderr
    assert t.refresh().state == "success"
    assert t.xcom() == "still allowed"


def test_a_try_that_is_not_queued_is_left_alone_with_exit_code_0(make_try):
    t = make_try(
        HEADER
        + """
with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
    @task
    def once():
        print("should never run")
    once()
""",
        "once",
    )
    t.ti.state = "success"
    t.ti.save(update_fields=["state"])

    result = t.run()

    assert result.returncode == EXIT_OK
    assert "no longer queued" in result.stderr
    assert t.refresh().state == "success"
    assert t.log() == ""


def test_a_run_without_logical_date_runs_without_date_keys(make_try):
    t = make_try(
        HEADER
        + """
with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
    @task
    def show(**context):
        print("has ds:", "ds" in context, "interval:", context["data_interval_start"])
    show()
""",
        "show",
        logical_date=None,
        run_id="manual__2024-01-01T00:00:00+00:00",
    )

    assert t.run().returncode == EXIT_OK
    assert "has ds: False interval: None" in t.log()
