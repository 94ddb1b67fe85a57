"""A triggerer inside a foreground run (`dags test`, `tasks test`), as Airflow's `dags test`
runs triggers in-process: started in a thread the first time a task of the run defers, so a
run without deferrable tasks pays nothing, and stopped with the run. It is a real triggerer
(its Job row, its lease, its trigger runner child), so it also shares the work with any
triggerer already running."""

from __future__ import annotations

import threading

from django.db import connection

from dagruns.models import TaskInstance, TaskInstanceState
from scheduler.triggerer.lease import JOB_TYPE
from scheduler.triggerer.loop import Triggerer


class InlineTriggerer:
    def __init__(self, dag_run_id: int) -> None:
        self.dag_run_id = dag_run_id
        self.triggerer: Triggerer | None = None
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start_when_needed(self) -> None:
        """Start the triggerer once a task instance of the run is deferred."""
        if self.triggerer is not None:
            return
        deferred = TaskInstance.objects.filter(
            dag_run_id=self.dag_run_id, state=TaskInstanceState.DEFERRED
        )
        if not deferred.exists():
            return
        self.triggerer = Triggerer()
        self.thread = threading.Thread(target=self._run, name="inline-triggerer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        assert self.triggerer is not None
        try:
            self.triggerer.run_until(lambda _report: False, job_type=JOB_TYPE)
        except BaseException as exc:  # surfaced by close()
            self.error = exc
        finally:
            connection.close()

    def close(self) -> None:
        if self.triggerer is None or self.thread is None:
            return
        self.triggerer.stop()
        self.thread.join(30)
        if self.error is not None:
            raise RuntimeError(f"the in-process triggerer failed: {self.error}") from self.error
