"""Through the real scheduler and local executor: a task whose DAG file changed on disk after
the DAG processor parsed it (the run stays pinned to the parsed version) runs from the file it
finds and says so in its try's log; an unchanged file says nothing."""

from __future__ import annotations

import pytest

from dagruns.domain.logs import ti_log_path

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
