"""A task whose DAG file differs from the version its run is pinned to (the file changed on
disk after the DAG processor parsed it, or a worker's copy of the shared folder lags) runs from
the file it finds and says so in its try's log; an unchanged file says nothing. Through the
real scheduler and executor (the local one, or Celery under TEST_EXECUTOR=celery), and through
real Celery workers in any case."""

from __future__ import annotations

import pytest

from dagruns.domain.logs import ti_log_path
from tests.brokers import redis_server  # noqa: F401
from tests.celery_workers import celery_workers  # noqa: F401
from tests.e2e.conftest import Engine, configure_engine

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BODY = """
with DAG("versioned", schedule=None, start_date=START):
    BashOperator(task_id="say", bash_command="echo {word}")
"""
WARNING = "differs from the version this run is pinned to"


def test_a_dag_file_edited_after_parsing_is_named_in_the_log_of_the_try(engine):
    path = engine.add("versioned.py", BODY.format(word="parsed"))
    engine.parse()
    run = engine.run_dag("versioned", run_id="before")
    assert engine.states(run) == {"say": "success"}
    log = ti_log_path(engine.ti(run, "say")).read_text()
    assert "parsed" in log and WARNING not in log

    path.write_text(path.read_text().replace("echo parsed", "echo edited"))  # not re-parsed
    run = engine.run_dag("versioned", run_id="after")
    assert engine.states(run) == {"say": "success"}
    log = ti_log_path(engine.ti(run, "say")).read_text()
    assert "edited" in log
    [line] = [line for line in log.splitlines() if WARNING in line]
    assert str(path) in line


def test_a_celery_worker_whose_copy_is_older_than_the_pinned_version_says_so(
    live_server,
    dags_folder,
    orch_settings,
    tmp_path,
    redis_server,  # noqa: F811
    celery_workers,  # noqa: F811
):
    configure_engine(orch_settings, live_server.url, tmp_path, broker_url=redis_server.url)
    engine = Engine(dags_folder, executor="celery")
    try:
        path = engine.add("versioned.py", BODY.format(word="old"))
        old = path.read_text()
        path.write_text(old.replace("echo old", "echo new"))
        engine.parse()  # the run is pinned to the new version …
        path.write_text(old)  # … the worker's copy of the folder still has the old file
        run = engine.run_dag("versioned", run_id="lagging", timeout=120)
    finally:
        engine.close()
    assert engine.states(run) == {"say": "success"}
    log = ti_log_path(engine.ti(run, "say")).read_text()
    [line] = [line for line in log.splitlines() if WARNING in line]
    assert "WARNING" in line and str(path) in line
    assert "old" in log.split(WARNING, 1)[1]  # it ran its own copy, after the warning
