"""The workload contract (scheduler/runner/workload.py): typed, versioned, JSON both ways, and
refused whole, before anything runs, when it is not one this runner understands."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from scheduler.runner.supervisor import EXIT_INVALID_WORKLOAD
from scheduler.runner.workload import InvalidWorkload, Workload
from tests.scheduler.runner.conftest import REPO

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2VjcmV0LXNpZ25hdHVyZQ"


def wire(**changes) -> dict:
    data = {
        "version": 2,
        "ti_id": "00000000-0000-0000-0000-000000000001",
        "dag_id": "d",
        "run_id": "r",
        "task_id": "t",
        "map_index": -1,
        "try_number": 1,
        "dag_fileloc": "/dags/d.py",
        "dags_folder": "/dags",
        "token": TOKEN,
        "api_url": "http://127.0.0.1:8000",
        "queue": "default",
        "executor_config": {"cpu": 1},
        "execution_timeout": 30.0,
        "pool": "default_pool",
        "heartbeat_interval": 5.0,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}


def test_a_workload_survives_json_and_back_and_the_wire_copy_is_wiped():
    workload = Workload.parse(wire())
    data = workload.to_json_bytes()

    again = Workload.parse(data)

    assert again == workload
    assert again.token == TOKEN and again.executor_config == {"cpu": 1}
    assert set(data) == {0}, "the bytes that carried the token are zeroed"


def test_a_dict_source_loses_its_token_and_no_repr_shows_it():
    source = wire()
    workload = Workload.parse(source)

    assert "token" not in source
    assert TOKEN not in repr(workload) and TOKEN not in str(workload)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"version": 1}, "unsupported workload version 1 (this runner understands version 2)"),
        ({"version": "2"}, "unsupported workload version '2'"),
        ({"version": ...}, "workload has no 'version'"),
    ],
)
@pytest.mark.parametrize("form", ["dict", "json"])
def test_an_unknown_or_missing_version_is_refused(changes, message, form):
    data = wire(**changes)
    source = data if form == "dict" else bytearray(json.dumps(data).encode())
    with pytest.raises(InvalidWorkload, match="version") as raised:
        Workload.parse(source)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"ti_id": ...}, "ti_id: Field required"),
        ({"try_number": 0}, "try_number: Input should be greater than or equal to 1"),
        ({"execution_timeout": "soon"}, "execution_timeout"),
        ({"executor_config": []}, "executor_config"),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
        ({"token": 42}, "token: Input should be a valid string"),
    ],
)
def test_a_malformed_workload_is_refused_naming_the_field_but_never_the_token(changes, named):
    with pytest.raises(InvalidWorkload) as raised:
        Workload.parse(bytearray(json.dumps(wire(**changes)).encode()))
    assert named in str(raised.value)
    assert TOKEN not in str(raised.value)


def test_text_that_is_not_a_json_object_is_refused():
    with pytest.raises(InvalidWorkload, match="invalid workload"):
        Workload.parse(b"[1, 2")
    with pytest.raises(InvalidWorkload, match="invalid workload"):
        Workload.parse(b"[1, 2]")


@pytest.mark.slow
@pytest.mark.parametrize("changes", [{"version": 99}, {"try_number": "first"}])
def test_the_runner_refuses_a_bad_workload_before_claiming_anything(make_try, changes):
    t = make_try(
        """
from datetime import datetime
from dagruns.sdk import DAG, task

with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
    @task
    def never():
        open("/tmp/should-not-exist", "w")
    never()
""",
        "never",
    )

    result = t.run(**changes)

    assert result.returncode == EXIT_INVALID_WORKLOAD
    assert "refusing the workload" in result.stderr
    ti = t.refresh()
    assert ti.state == "queued" and ti.start_date is None and ti.hostname in ("", None)
    assert t.log() == ""


@pytest.mark.slow
def test_python_m_scheduler_runner_refuses_a_bad_workload_from_stdin():
    process = subprocess.run(
        [sys.executable, "-m", "scheduler.runner", "-"],
        input=json.dumps(wire(version=7)),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert process.returncode == EXIT_INVALID_WORKLOAD
    assert "unsupported workload version 7" in process.stderr
    assert TOKEN not in process.stderr
