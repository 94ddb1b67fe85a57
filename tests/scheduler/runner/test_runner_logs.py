"""The runner end to end: what reaches the log (chunked, masked), and a try cleared while it
runs."""

from __future__ import annotations

import os

import pytest

from dagruns.models import Connection, TaskInstance, Variable
from scheduler.runner.supervisor import EXIT_OK, EXIT_TRY_GONE
from tests.polling import wait_until

pytestmark = pytest.mark.slow

HEADER = """
import sys, time
from datetime import datetime
from dagruns.sdk import DAG, task, BashOperator

with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
"""


def dag_with(body: str) -> str:
    return HEADER + "\n".join("    " + line for line in body.strip("\n").splitlines()) + "\n"


def test_a_50_mb_print_is_shipped_in_chunks_with_bounded_supervisor_memory(make_try):
    t = make_try(
        dag_with("""
@task
def chatty():
    line = "y" * 1023 + "\\n"
    for _ in range(25):
        sys.stdout.write(line * 1024)    # 25 MiB of ordinary lines
    print("z" * (25 * 1024 * 1024))     # and one absurd 25 MiB line
    print("done printing")
chatty()
"""),
        "chatty",
    )

    result = t.run(timeout=120)

    assert result.returncode == EXIT_OK, result.stderr
    assert t.refresh().state == "success"
    path = t.log_path()
    assert path.stat().st_size > 50 * 1024 * 1024
    with path.open("rb") as log:
        longest = max(len(line) for line in log)
    assert longest <= 64 * 1024 + 1  # the long line was cut at 64 KiB
    with path.open("rb") as log:
        log.seek(-4096, os.SEEK_END)
        tail = log.read().decode()
    assert "done printing" in tail
    assert "Marking task as SUCCESS" in tail
    # The supervisor never held the log: its peak RSS stays far below 50 MB over its start.
    assert result.report["peak_rss_kib"] < 80 * 1024, result.report


def test_a_connection_password_and_a_sensitive_variable_are_masked(make_try):
    conn = Connection(conn_id="warehouse", conn_type="postgres", host="db.example", login="etl")
    conn.password = "s3cr3t-pass"
    conn.extra = {"api_key": "extra-key-123", "sslmode": "require"}
    conn.save()
    token = Variable(key="api_token")
    token.val = "tok-abcdef"
    token.save()
    plain = Variable(key="region")
    plain.val = "eu-west-1"
    plain.save()
    t = make_try(
        dag_with("""
@task
def leaky(conn=None, var=None):
    c = conn.warehouse
    print("password:", c.password)
    print("extra:", c.extra_dejson)
    print("token:", var.value.api_token)
    print("region:", var.value.region)

BashOperator(task_id="echo", bash_command="echo pw={{ conn.warehouse.password }}")
leaky()
"""),
        "leaky",
    )

    assert t.run().returncode == EXIT_OK
    log = t.log()
    for secret in ("s3cr3t-pass", "extra-key-123", "tok-abcdef"):
        assert secret not in log
    assert "password: ***" in log
    assert "'api_key': '***'" in log and "'sslmode': 'require'" in log
    assert "token: ***" in log
    assert "region: eu-west-1" in log


def test_a_value_the_task_asks_to_mask_is_masked_from_then_on(make_try):
    t = make_try(
        dag_with("""
@task
def custom():
    from scheduler.runner.task_process import mask_secret
    secret = "generated-" + "credential"
    mask_secret(secret)
    print("got", secret)
custom()
"""),
        "custom",
    )

    assert t.run().returncode == EXIT_OK
    assert "generated-credential" not in t.log()
    assert "got ***" in t.log()


def test_a_secret_in_a_rendered_template_is_masked_in_log_and_rendered_fields(make_try):
    conn = Connection(conn_id="warehouse", conn_type="postgres")
    conn.password = "s3cr3t-pass"
    conn.save()
    t = make_try(
        dag_with("""
BashOperator(task_id="echo", bash_command="echo pw={{ conn.warehouse.password }}")
"""),
        "echo",
    )

    assert t.run().returncode == EXIT_OK
    ti = t.refresh()
    assert ti.state == "success"
    assert ti.rendered_fields["bash_command"] == "echo pw=***"
    assert "s3cr3t-pass" not in t.log()
    assert "pw=***" in t.log()


def test_a_try_cleared_while_running_is_killed_at_the_next_heartbeat(make_try):
    t = make_try(
        dag_with("""
@task
def long_one():
    print("working", flush=True)
    time.sleep(60)
long_one()
"""),
        "long_one",
        heartbeat_interval=0.2,
    )
    runner = t.start()
    task_pid = runner.task_pid()
    wait_until(lambda: "working" in t.log(), "the task's first line in the log", timeout=10)

    TaskInstance.objects.filter(pk=t.ti.pk).update(state=None)  # what a clear does
    result = runner.wait(timeout=30)

    assert result.returncode == EXIT_TRY_GONE
    assert "heartbeat refused (409" in result.stderr
    assert t.refresh().state is None  # the runner reported nothing over the clear
    with pytest.raises(ProcessLookupError):
        os.kill(task_pid, 0)


def test_a_5_mb_return_value_is_truncated_in_the_log(make_try):
    t = make_try(
        """
from datetime import datetime
from dagruns.sdk import DAG, task

with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
    @task
    def big():
        return "x" * (5 * 1024 * 1024)
    big()
""",
        "big",
    )

    t.run()

    log = t.log()
    line = next(line for line in log.splitlines() if "Returned value was" in line)
    assert "[truncated: 5242880 characters, over 4096]" in line
    assert len(log) < 64 * 1024, "the value is not written whole into the log"
