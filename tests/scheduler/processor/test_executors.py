"""A task naming an executor that ORCH_EXECUTOR does not configure is an import error of its DAG
file naming the task, the executor and the configured ones (Airflow's UnknownExecutorException
at parse time) — never a task that waits forever. The file's other DAGs are kept, and a change of
ORCH_EXECUTOR takes effect on the processor's next start without touching the files."""

from __future__ import annotations

import pytest
from django.test import Client

from dagruns.api.rest.auth import issue_token
from dagruns.models import DagFile, DagImportError, DagModel
from scheduler.processor.loop import DagProcessor
from tests.builders import HEADER, simple_dag, write
from tests.personas import persona

pytestmark = pytest.mark.django_db

TWO_DAGS = (
    HEADER
    + """
with DAG(dag_id="mixed", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    EmptyOperator(task_id="here") >> EmptyOperator(task_id="there", executor={executor!r})

with DAG(dag_id="plain", schedule=None, start_date=datetime(2024, 1, 1)) as other:
    EmptyOperator(task_id="only")
"""
)


def run():
    return DagProcessor(timeout=10.0).run_once()


def test_an_unconfigured_executor_is_an_import_error_naming_the_task(dags_folder, orch_settings):
    orch_settings.executor = "local"
    path = write(dags_folder, "mixed.py", TWO_DAGS.format(executor="celery"))
    report = run()
    assert report.errors == 1
    error = DagImportError.objects.get(filename=str(path))
    assert error.message == (
        "UnknownExecutorException: Task 'there' of DAG 'mixed' asks for executor 'celery', "
        "which is not configured: ORCH_EXECUTOR lists local. Add it to ORCH_EXECUTOR or give "
        "the task one of these (or no executor, for the default)."
    )
    # The file's other DAG is fine and stored; the refused one never was.
    assert DagModel.objects.get(dag_id="plain").is_active
    assert not DagModel.objects.filter(dag_id="mixed").exists()
    assert DagModel.objects.get(dag_id="plain").has_import_errors


def test_the_import_error_is_listed_by_the_rest_api(dags_folder, orch_settings):
    orch_settings.executor = "local"
    write(dags_folder, "mixed.py", TWO_DAGS.format(executor="kubernetes"))
    run()
    token = issue_token(persona("viewer"))
    body = Client().get("/api/v2/importErrors", headers={"Authorization": f"Bearer {token}"})
    (entry,) = body.json()["import_errors"]
    assert entry["filename"].endswith("mixed.py")
    assert "Task 'there' of DAG 'mixed' asks for executor 'kubernetes'" in entry["stack_trace"]


def test_a_configured_executor_is_accepted_and_stored(dags_folder, orch_settings):
    orch_settings.executor = "local,celery"
    write(dags_folder, "mixed.py", TWO_DAGS.format(executor="celery"))
    assert run().errors == 0
    version = DagModel.objects.get(dag_id="mixed").latest_version()
    assert {t["task_id"]: t["executor"] for t in version.serialized["tasks"]} == {
        "here": None,
        "there": "celery",
    }


def test_airflows_name_for_a_configured_executor_is_accepted(dags_folder, orch_settings):
    orch_settings.executor = "local,celery"
    write(dags_folder, "mixed.py", TWO_DAGS.format(executor="CeleryExecutor"))
    assert run().errors == 0
    version = DagModel.objects.get(dag_id="mixed").latest_version()
    assert version.serialized["tasks"][1]["executor"] == "celery"


def test_a_dag_refused_later_keeps_its_last_good_version(dags_folder, orch_settings):
    orch_settings.executor = "local"
    path = write(dags_folder, "mixed.py", TWO_DAGS.format(executor="local"))
    run()
    good = DagModel.objects.get(dag_id="mixed").latest_version()
    write(dags_folder, "mixed.py", TWO_DAGS.format(executor="celery") + "# edited\n")
    run()
    dag = DagModel.objects.get(dag_id="mixed")
    assert dag.is_active and dag.has_import_errors  # as a broken file keeps its DAGs
    assert dag.latest_version() == good
    assert DagImportError.objects.filter(filename=str(path)).exists()


def test_configuring_the_executor_clears_the_error_at_the_next_start(dags_folder, orch_settings):
    orch_settings.executor = "local"
    path = write(dags_folder, "mixed.py", TWO_DAGS.format(executor="celery"))
    write(dags_folder, "zz_other.py", simple_dag("untouched"))
    run()
    assert DagImportError.objects.filter(filename=str(path)).exists()
    parsed_at = DagFile.objects.get(fileloc__endswith="zz_other.py").last_parsed_at

    orch_settings.executor = "local,celery"  # the processor restarts with the new setting
    report = run()
    assert report.parsed == 1  # the refused file only: unchanged files are not parsed again
    assert not DagImportError.objects.exists()
    assert DagModel.objects.get(dag_id="mixed").is_active
    assert DagFile.objects.get(fileloc__endswith="zz_other.py").last_parsed_at == parsed_at


def test_dropping_an_executor_turns_its_dags_into_import_errors_at_the_next_start(
    dags_folder, orch_settings
):
    orch_settings.executor = "local,celery"
    path = write(dags_folder, "mixed.py", TWO_DAGS.format(executor="celery"))
    run()
    assert not DagImportError.objects.exists()

    orch_settings.executor = "local"
    run()
    error = DagImportError.objects.get(filename=str(path))
    assert "asks for executor 'celery', which is not configured" in error.message
    # Its runs keep the version they are pinned to; the queueing step leaves its celery task
    # scheduled, with a log line, until the executor is configured again.
    assert DagModel.objects.get(dag_id="mixed").is_active
