"""A runner whose DAG file differs from the version its run is pinned to says so in the try's
log (DAG files reach worker hosts through a shared folder; a stale or newer copy shows here),
and runs the task from the file it has."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.processor.files import content_hash
from scheduler.runner.supervisor import EXIT_OK
from scheduler.runner.task_process import file_hash
from scheduler.runner.workload import WORKLOAD_VERSION, InvalidWorkload, Workload

pytestmark = pytest.mark.slow

DAG_FILE = """
from datetime import datetime
from dagruns.sdk import DAG, BashOperator

with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
    BashOperator(task_id="hello", bash_command="echo hello from this host")
"""


def test_the_runner_hashes_a_file_as_the_dag_processor_does(tmp_path):
    path = tmp_path / "dag.py"
    path.write_bytes(b"x = 1\n" * 300_000)  # several read blocks
    assert file_hash(str(path)) == content_hash(path.read_bytes())


def test_the_pinned_file_runs_without_a_warning(make_try):
    t = make_try(DAG_FILE, "hello")
    result = t.run(dag_source_hash=file_hash(str(t.dag_file)))
    assert result.returncode == EXIT_OK, result.stderr
    assert t.refresh().state == "success"
    assert "hello from this host" in t.log()
    assert "differs from the version this run is pinned to" not in t.log()


def test_a_file_that_differs_from_the_pinned_version_is_named_in_the_log(make_try):
    t = make_try(DAG_FILE, "hello")
    pinned = file_hash(str(t.dag_file))
    # This host's copy changed after the DAG processor parsed it (same task, edited text).
    Path(t.dag_file).write_text(DAG_FILE.replace("from this host", "from an edited copy"))
    result = t.run(dag_source_hash=pinned)
    assert result.returncode == EXIT_OK, result.stderr
    assert t.refresh().state == "success"
    log = t.log()
    [warning] = [line for line in log.splitlines() if "differs from the version" in line]
    assert "WARNING" in warning
    assert str(t.dag_file) in warning
    assert pinned[:12] in warning and file_hash(str(t.dag_file))[:12] in warning
    assert "hello from an edited copy" in log  # it ran this host's file


def test_a_workload_without_the_hash_is_still_valid_and_a_malformed_one_is_refused():
    base = {
        "version": WORKLOAD_VERSION, "ti_id": "1", "dag_id": "d", "run_id": "r", "task_id": "t",
        "try_number": 1, "token": "x", "api_url": "http://127.0.0.1:1",
    }  # fmt: skip
    assert Workload.parse(dict(base)).dag_source_hash is None
    with pytest.raises(InvalidWorkload, match="dag_source_hash"):
        Workload.parse({**base, "dag_source_hash": "not-a-sha256"})
