"""DAG-level on_success_callback / on_failure_callback run as in Airflow 3: the scheduler asks
when a run ends, the DAG processor runs them in a subprocess with the DAG's own file, with
Airflow's context (dag, dag_run, run_id, reason ...), and their output — prints, logging, the
traceback of one that raises — lands in the run's callback log. A bad callback never stops the
processor; max_consecutive_failed_dag_runs pauses a DAG whose last runs all failed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from dagruns.actions.audit import Actor
from dagruns.actions.dag_callbacks import callback_log_path
from dagruns.actions.runs import do_trigger_dag
from dagruns.models import AuditEvent, DagCallbackRequest, DagModel, DagRun, TaskInstance
from scheduler.processor.loop import DagProcessor
from scheduler.scheduling.examine import examine_run
from tests.builders import write

pytestmark = pytest.mark.django_db

CALLBACKS_FILE = """
import json, logging
from datetime import datetime
from dagruns.sdk import DAG, EmptyOperator

OUT = {out!r}

def record(context):
    run = context["dag_run"]
    with open(OUT, "a") as handle:
        handle.write(json.dumps({{
            "dag_id": context["dag"].dag_id, "run_id": context["run_id"],
            "reason": context["reason"], "state": run.state, "conf": run.conf,
            "ti": context["ti"].task_id if "ti" in context else None,
        }}) + "\\n")
    print("callback saw", context["reason"])
    logging.getLogger("mine").warning("logged from the callback")

def explode(context):
    raise RuntimeError("the callback blew up")

def hang(context):
    import time
    while True:
        time.sleep(1)

with DAG({dag_id!r}, schedule=None, start_date=datetime(2024, 1, 1),
         {callback_args}):
    EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
"""


@pytest.fixture
def logs(tmp_path, orch_settings):
    orch_settings.log_dir = tmp_path / "logs"
    return orch_settings.log_dir


def _dag_file(dags_folder, tmp_path, dag_id: str, callback_args: str):
    out = tmp_path / f"{dag_id}.jsonl"
    write(
        dags_folder,
        f"{dag_id}.py",
        CALLBACKS_FILE.format(out=str(out), dag_id=dag_id, callback_args=callback_args),
    )
    return out


def _finish_run(dag_id: str, states: dict[str, str], conf: dict | None = None) -> DagRun:
    run = do_trigger_dag(dag_id, Actor(name="test"), conf=conf)
    DagRun.objects.filter(pk=run.pk).update(state="running", start_date=timezone.now())
    for task_id, state in states.items():
        TaskInstance.objects.filter(dag_run=run, task_id=task_id).update(state=state)
    run.refresh_from_db()
    examine_run(run, timezone.now())
    run.refresh_from_db()
    return run


def _records(out) -> list[dict]:
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def test_a_failed_run_runs_on_failure_callback_in_the_processor(dags_folder, tmp_path, logs):
    out = _dag_file(dags_folder, tmp_path, "fails", "on_failure_callback=record")
    DagProcessor().run_once()
    run = _finish_run("fails", {"a": "failed", "b": "upstream_failed"}, conf={"k": 1})
    assert run.state == "failed"
    request = DagCallbackRequest.objects.get(dag_run=run)
    assert (request.is_failure, request.reason, request.finished_at) == (True, "task_failure", None)
    assert _records(out) == []  # the scheduler never runs user code

    assert DagProcessor().run_once().callbacks == 1
    (seen,) = _records(out)
    assert seen == {
        "dag_id": "fails",
        "run_id": run.run_id,
        "reason": "task_failure",
        "state": "failed",
        "conf": {"k": 1},
        "ti": "a",
    }
    request.refresh_from_db()
    assert request.outcome == "success" and request.error == ""
    log = callback_log_path("fails", run.run_id).read_text()
    assert "Running the DAG's on_failure_callback (reason: task_failure)" in log
    assert "callback saw task_failure" in log
    assert "logged from the callback" in log
    # Run once: the next tick finds nothing to do.
    assert DagProcessor().run_once().callbacks == 0
    assert len(_records(out)) == 1


def test_a_successful_run_runs_each_of_a_list_of_success_callbacks(dags_folder, tmp_path, logs):
    out = _dag_file(
        dags_folder,
        tmp_path,
        "succeeds",
        "on_success_callback=[record, record], on_failure_callback=explode",
    )
    DagProcessor().run_once()
    run = _finish_run("succeeds", {"a": "success", "b": "success"})
    assert run.state == "success"
    DagProcessor().run_once()
    assert [r["reason"] for r in _records(out)] == ["success", "success"]
    assert _records(out)[0]["ti"] is None


def test_a_dag_without_the_callback_gets_no_request(dags_folder, tmp_path, logs):
    _dag_file(dags_folder, tmp_path, "only_failure", "on_failure_callback=record")
    DagProcessor().run_once()
    _finish_run("only_failure", {"a": "success", "b": "success"})
    assert not DagCallbackRequest.objects.exists()


def test_a_callback_that_raises_is_logged_and_the_processor_carries_on(dags_folder, tmp_path, logs):
    _dag_file(dags_folder, tmp_path, "bad_callback", "on_failure_callback=[explode, record]")
    out = _dag_file(dags_folder, tmp_path, "good_callback", "on_failure_callback=record")
    DagProcessor().run_once()
    bad = _finish_run("bad_callback", {"a": "failed", "b": "upstream_failed"})
    _finish_run("good_callback", {"a": "failed", "b": "upstream_failed"})
    DagProcessor().run_once()
    request = DagCallbackRequest.objects.get(dag_run=bad)
    assert request.outcome == "failed"
    assert "on_failure_callback raised an exception" in request.error
    log = callback_log_path("bad_callback", bad.run_id).read_text()
    assert "RuntimeError: the callback blew up" in log
    assert "callback saw task_failure" in log  # the next callback of the list still ran
    assert [r["dag_id"] for r in _records(out)] == ["good_callback"]


def test_a_hanging_callback_is_killed_at_the_timeout(dags_folder, tmp_path, logs):
    _dag_file(dags_folder, tmp_path, "hangs", "on_failure_callback=hang")
    DagProcessor(timeout=3).run_once()
    run = _finish_run("hangs", {"a": "failed", "b": "upstream_failed"})
    DagProcessor(timeout=3).run_once()
    request = DagCallbackRequest.objects.get(dag_run=run)
    assert request.outcome == "failed"
    assert "took longer than 3 s" in request.error
    assert "took longer than 3 s" in callback_log_path("hangs", run.run_id).read_text()


def test_a_dagrun_timeout_is_reported_as_timed_out(dags_folder, tmp_path, logs):
    out = _dag_file(dags_folder, tmp_path, "slow", "on_failure_callback=record, dagrun_timeout=60")
    DagProcessor().run_once()
    run = do_trigger_dag("slow", Actor(name="test"))
    DagRun.objects.filter(pk=run.pk).update(
        state="running", start_date=timezone.now() - timedelta(minutes=5)
    )
    run.refresh_from_db()
    examine_run(run, timezone.now())
    DagProcessor().run_once()
    assert [r["reason"] for r in _records(out)] == ["timed_out"]


def test_max_consecutive_failed_dag_runs_pauses_the_dag(dags_folder, tmp_path, logs):
    _dag_file(dags_folder, tmp_path, "flaky", "max_consecutive_failed_dag_runs=2")
    DagProcessor().run_once()
    DagModel.objects.filter(dag_id="flaky").update(is_paused=False)
    _finish_run("flaky", {"a": "failed", "b": "upstream_failed"})
    assert not DagModel.objects.get(dag_id="flaky").is_paused
    _finish_run("flaky", {"a": "failed", "b": "upstream_failed"})
    assert DagModel.objects.get(dag_id="flaky").is_paused
    event = AuditEvent.objects.get(dag_id="flaky", event="paused")
    assert event.owner == "scheduler" and "max_consecutive_failed_dag_runs=2" in str(event.extra)


def test_a_success_between_failures_resets_the_count(dags_folder, tmp_path, logs):
    _dag_file(dags_folder, tmp_path, "recovers", "max_consecutive_failed_dag_runs=2")
    DagProcessor().run_once()
    DagModel.objects.filter(dag_id="recovers").update(is_paused=False)
    _finish_run("recovers", {"a": "failed", "b": "upstream_failed"})
    _finish_run("recovers", {"a": "success", "b": "success"})
    _finish_run("recovers", {"a": "failed", "b": "upstream_failed"})
    assert not DagModel.objects.get(dag_id="recovers").is_paused


@pytest.mark.django_db(transaction=True)
def test_dags_test_runs_the_dag_callback_itself_and_prints_its_log(
    dags_folder, tmp_path, logs, orch_settings
):
    from io import StringIO

    from django.core.management import call_command

    orch_settings.home = tmp_path / "home"
    out_file = tmp_path / "cli.jsonl"
    write(
        dags_folder,
        "cli_callback.py",
        CALLBACKS_FILE.format(
            out=str(out_file), dag_id="cli_callback", callback_args="on_success_callback=record"
        ),
    )
    DagProcessor().run_once()
    out = StringIO()
    call_command("dags", "test", "cli_callback", stdout=out)
    assert [r["reason"] for r in _records(out_file)] == ["success"]
    printed = out.getvalue()
    assert "--- DAG callbacks ---" in printed and "callback saw success" in printed
    assert DagCallbackRequest.objects.get().outcome == "success"


def test_a_dag_file_in_airflows_spelling_gets_its_callback_too(dags_folder, tmp_path, logs):
    out = tmp_path / "airflow_spelling.txt"
    write(
        dags_folder,
        "airflow_spelling.py",
        f"""
        from datetime import datetime
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.empty import EmptyOperator

        def notify(context):
            with open({str(out)!r}, "w") as handle:
                handle.write(context["reason"] + " " + context["dag"].dag_id)

        with DAG("airflow_spelling", schedule=None, start_date=datetime(2024, 1, 1),
                 on_success_callback=notify):
            EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
        """,
    )
    DagProcessor().run_once()
    _finish_run("airflow_spelling", {"a": "success", "b": "success"})
    DagProcessor().run_once()
    assert out.read_text() == "success airflow_spelling"


def test_a_claim_left_by_a_dead_processor_is_taken_again(dags_folder, tmp_path, logs):
    out = _dag_file(dags_folder, tmp_path, "orphaned", "on_failure_callback=record")
    DagProcessor().run_once()
    run = _finish_run("orphaned", {"a": "failed", "b": "upstream_failed"})
    request = DagCallbackRequest.objects.get(dag_run=run)
    # Claimed a moment ago by a processor that is still running it: not taken.
    DagCallbackRequest.objects.filter(pk=request.pk).update(started_at=timezone.now())
    assert DagProcessor().run_once().callbacks == 0
    # Claimed long ago, never finished: its processor died; another one runs it.
    DagCallbackRequest.objects.filter(pk=request.pk).update(
        started_at=timezone.now() - timedelta(hours=1)
    )
    assert DagProcessor().run_once().callbacks == 1
    assert [r["reason"] for r in _records(out)] == ["task_failure"]


TASK_CALLBACK_FILE = """
from datetime import datetime
from dagruns.sdk import DAG, EmptyOperator

def record(context):
    with open({out!r}, "a") as handle:
        handle.write(context["task"].task_id + " " + context["ti"].state + " "
                     + str(context["ti"].try_number) + " " + context["dag_run"].run_id + "\\n")
    print("task callback saw", context["task"].task_id)

with DAG("task_callback", schedule=None, start_date=datetime(2024, 1, 1)):
    EmptyOperator(task_id="waits", on_failure_callback=record)
"""


def test_a_task_its_trigger_failed_runs_its_failure_callback_in_the_processor(
    dags_folder, tmp_path, logs
):
    """Airflow 3's TaskCallbackRequest: the triggerer asks, the processor runs the task's
    callback with the DAG's own file; its output goes to the run's callback log."""
    from dagruns.actions.deferral import do_defer_try
    from dagruns.actions.tries import do_start_try
    from dagruns.actions.trigger_end import do_end_from_trigger
    from dagruns.models import Trigger
    from tests.builders import queue, ti_of

    out = tmp_path / "task_callback.txt"
    write(dags_folder, "task_callback.py", TASK_CALLBACK_FILE.format(out=str(out)))
    DagProcessor().run_once()
    run = do_trigger_dag("task_callback", Actor(name="test"))
    ti = do_start_try(queue(ti_of(run, "waits")).id, 1)
    do_defer_try(
        ti.id, 1, classpath="x.Trigger", trigger_kwargs={}, next_method="done", next_kwargs={}
    )
    do_end_from_trigger(Trigger.objects.get().pk, "failed")
    assert not out.exists()  # the triggerer never runs user code

    assert DagProcessor().run_once().callbacks == 1
    assert out.read_text() == f"waits failed 1 {run.run_id}\n"
    request = DagCallbackRequest.objects.get(dag_run=run)
    assert (request.outcome, request.error) == ("success", "")
    log = callback_log_path("task_callback", run.run_id).read_text()
    assert "Running the task waits's on_failure_callback (reason: task_failure)" in log
    assert "task callback saw waits" in log
