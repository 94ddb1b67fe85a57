"""A runner killed with SIGKILL mid-run: the scheduler notices its process ended without a
report, fails the try, and the retry runs."""

from __future__ import annotations

import os
import signal

import pytest

from dagruns.models import TaskInstanceHistory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.local_executor  # kills the runner through LocalExecutor._running
def test_a_runner_killed_mid_run_is_retried(engine):
    engine.add(
        "killed.py",
        """
        def slow_first(ti=None):
            import time
            if ti.try_number == 1:
                time.sleep(60)

        with DAG("killed", schedule=None, start_date=START) as dag:
            PythonOperator(task_id="t", python_callable=slow_first, retries=1,
                           retry_delay=timedelta(seconds=0))
        """,
    )
    engine.parse()
    run = engine.trigger("killed")
    scheduler = engine.scheduler()
    assert scheduler.run_until(lambda _r: engine.ti(run, "t").state == "running", timeout=30)
    ((pid, _try),) = [
        (p.pid, n)
        for p, n in scheduler.executor._running.values()  # the runner's process
    ]
    os.killpg(pid, signal.SIGKILL)  # runner and task, no chance to report
    engine.run(run, timeout=30)
    ti = engine.ti(run, "t")
    assert (ti.state, ti.try_number) == ("success", 2)
    first = TaskInstanceHistory.objects.get(task_instance=ti, try_number=1)
    assert first.state == "up_for_retry"
