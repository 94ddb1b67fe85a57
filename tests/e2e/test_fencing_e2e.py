"""Issue 9, fencing: a runner killed with SIGKILL while its try runs, with retry_delay=0, never
leaves two copies of the task running at once. The task holds an exclusive lock per task
instance and records any contention it meets."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

KILLS = 5


@pytest.mark.local_executor  # kills the runner through LocalExecutor._running
def test_killing_the_runner_never_gives_two_copies_at_once(engine, tmp_path):
    lock, contention, holding = (tmp_path / n for n in ("lock", "contention", "holding"))
    engine.add(
        "fenced.py",
        f"""
        def exclusive(ti=None):
            import fcntl, os, time
            handle = open({str(lock)!r}, "a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                with open({str(contention)!r}, "a") as out:
                    out.write(f"try {{ti.try_number}} found the lock held\\n")
                fcntl.flock(handle, fcntl.LOCK_EX)
            with open({str(holding)!r}, "w") as out:
                out.write(str(ti.try_number))
            if ti.try_number <= {KILLS}:
                time.sleep(120)  # killed before it ends

        with DAG("fenced", schedule=None, start_date=START) as dag:
            PythonOperator(task_id="t", python_callable=exclusive, retries={KILLS},
                           retry_delay=timedelta(seconds=0))
        """,
    )
    engine.parse()
    run = engine.trigger("fenced")
    scheduler = engine.scheduler()
    for attempt in range(1, KILLS + 1):
        assert scheduler.run_until(
            lambda _r, n=attempt: holding.exists() and holding.read_text() == str(n),
            timeout=60,
        ), engine.describe([run.pk])
        ((process, try_number),) = scheduler.executor._running.values()
        assert try_number == attempt
        os.kill(process.pid, signal.SIGKILL)  # the runner only: its task must die with it

    engine.run(run, timeout=60)

    ti = engine.ti(run, "t")
    assert (ti.state, ti.try_number) == ("success", KILLS + 1)
    assert not contention.exists(), Path(contention).read_text()
