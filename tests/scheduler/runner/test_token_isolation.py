"""Issue 10: task code cannot find its try's Execution API token anywhere it can look (every
object the garbage collector tracks and what they reference, every stack frame, the
environment, the command line): the supervisor keeps the only copy."""

from __future__ import annotations

import pytest

from scheduler.executors.local import LocalExecutor
from scheduler.runner.supervisor import EXIT_OK
from scheduler.runner.workload import Workload
from tests.polling import wait_until

pytestmark = pytest.mark.slow

HUNTER = r"""
import gc, os, re, sys
from datetime import datetime
from dagruns.sdk import DAG, task

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
# A JWT-shaped decoy the hunt must find: proof that it looks where the token would be.
DECOY = ["".join(["eyJ", "decoyheader", ".eyJ", "decoypayload", ".", "decoysignature"])]


def hunt():
    found = set()

    def check(value):
        if isinstance(value, (bytes, bytearray, memoryview)):
            value = bytes(value).decode("latin-1")
        if isinstance(value, str):
            found.update(JWT.findall(value))

    for obj in gc.get_objects():
        check(obj)
        for referent in gc.get_referents(obj):
            check(referent)
            if isinstance(referent, dict):
                for key, value in list(referent.items()):
                    check(key)
                    check(value)
    frame = sys._getframe()
    while frame is not None:
        for value in list(frame.f_locals.values()):
            check(value)
            for attribute in list(getattr(value, "__dict__", {}).values()):
                check(attribute)
        frame = frame.f_back
    for key, value in os.environ.items():
        check(key)
        check(value)
    for arg in list(sys.argv) + list(getattr(sys, "orig_argv", [])):
        check(arg)
    for name in ("cmdline", "environ"):
        with open(f"/proc/self/{name}", "rb") as handle:
            check(handle.read())
    return sorted(found)


with DAG("runner_test", schedule=None, start_date=datetime(2024, 1, 1)):
    @task
    def look_for_the_token():
        return hunt()
    look_for_the_token()
"""
DECOY = "eyJdecoyheader.eyJdecoypayload.decoysignature"


def test_task_code_finds_no_token_when_the_runner_is_started_as_a_process(make_try):
    t = make_try(HUNTER, "look_for_the_token")

    result = t.run()

    assert result.returncode == EXIT_OK, result.stderr
    assert t.refresh().state == "success", t.log()
    assert t.xcom() == [DECOY], "the hunt finds the decoy and nothing else"


def test_task_code_finds_no_token_under_the_local_executor(make_try):
    t = make_try(HUNTER, "look_for_the_token")
    executor = LocalExecutor(parallelism=1)
    executor.start()
    try:
        executor.queue(Workload.parse(dict(t.workload)))
        events = wait_until(executor.sync, "the runner to end", timeout=60)
    finally:
        executor.end()

    assert [e.returncode for e in events] == [EXIT_OK]
    assert t.refresh().state == "success", t.log()
    assert t.xcom() == [DECOY]
