"""Several executors at once (`ORCH_EXECUTOR=local,celery`): one executor to the scheduler that
routes each try to the executor its task asked for (operator `executor=`; none: the first
configured, the default) — Airflow 3's multiple executors.

Where Airflow 3's scheduler keeps a list of executors and loops over it (heartbeat each, pick
one per task instance), ours talks to one `BaseExecutor` whatever the configuration, so the
scheduler tick, its graceful drain and `dags test` stay unchanged:

* `queue_on(name, workload)` hands the try to that executor; `queue(workload)` to the default;
* `open_slots_by_executor()` gives each executor's own open slots (each has its own
  ORCH_PARALLELISM, as each of Airflow's executors has its own `parallelism`): the queueing
  step starves only the tasks of a full executor, never those of another;
* `sync()` is the union of the executors' ended runners, `running_tries()` of their tries,
  `wait_handles()` of their handles;
* `terminate(ti_id)` asks every executor: only the one running the try finds it;
* a stopping scheduler drains the tries of the executors whose runners live with it
  (`tries_to_drain()`, the local executor's), never a Celery worker's;
* a dead scheduler's tries are adopted (`adopting_executors`, `try_adopt_task_instances`) by
  the executor each was queued on (TaskInstance.executor), if it adopts while running (Celery,
  Kubernetes);
* a try stuck in queued is sent again (`can_resend`, `resend`) by the executor it was queued
  on (TaskInstance.executor names it): the one holding it in flight, or else the first that
  re-sends (a scheduler that restarted no longer holds the messages its predecessor sent).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scheduler.executors.base import BaseExecutor, ExecutorEvent
from scheduler.runner.workload import Workload


class MultiExecutor(BaseExecutor):
    def __init__(self, executors: Mapping[str, BaseExecutor]) -> None:
        if not executors:
            raise ValueError("MultiExecutor needs at least one executor")
        self.executors = dict(executors)  # insertion order: the first is the default
        self.default = next(iter(self.executors))
        self.name = ",".join(self.executors)
        super().__init__(sum(e.parallelism for e in self.executors.values()))

    # -- routing -------------------------------------------------------------------------

    def executor_for(self, requested: str | None) -> str | None:
        if requested is None:
            return self.default
        return requested if requested in self.executors else None

    def open_slots_by_executor(self) -> dict[str, int]:
        return {name: executor.open_slots for name, executor in self.executors.items()}

    def queue_on(self, executor_name: str, workload: Workload) -> None:
        try:
            executor = self.executors[executor_name]
        except KeyError:
            raise ValueError(
                f"no executor {executor_name!r} here (configured: {self.name})"
            ) from None
        executor.queue(workload)

    # -- the BaseExecutor contract, over all executors ------------------------------------

    def start(self) -> None:
        for executor in self.executors.values():
            executor.start()

    def on_scheduler_started(self, job_id: int) -> None:
        for executor in self.executors.values():
            executor.on_scheduler_started(job_id)

    def queue(self, workload: Workload) -> None:
        self.executors[self.default].queue(workload)

    def sync(self) -> list[ExecutorEvent]:
        return [event for executor in self.executors.values() for event in executor.sync()]

    def terminate(self, ti_id: str) -> bool:
        # Every executor is asked, not only the first that knows the try: after a change of
        # ORCH_EXECUTOR an old try on one executor and a newer one elsewhere may both run.
        results = [executor.terminate(ti_id) for executor in self.executors.values()]
        return any(results)

    def tries_to_drain(self) -> dict[str, int]:
        tries: dict[str, int] = {}
        for executor in self.executors.values():
            tries.update(executor.tries_to_drain())
        return tries

    def can_resend(self, executor_name: str) -> bool:
        executor = self.executors.get(executor_name)
        return executor is not None and executor.can_resend(executor_name)

    def resends_done(self, ti_id: str, try_number: int) -> int:
        return max(e.resends_done(ti_id, try_number) for e in self.executors.values())

    def resend(self, workload: Workload, count: int) -> None:
        for executor in self.executors.values():
            if executor.running_tries().get(workload.ti_id) == workload.try_number:
                executor.resend(workload, count)
                return
        for name, executor in self.executors.items():
            if executor.can_resend(name):
                executor.resend(workload, count)
                return
        raise ValueError(f"no executor here sends tries again (configured: {self.name})")

    def adopting_executors(self) -> frozenset[str]:
        return frozenset(
            name for name, executor in self.executors.items() if executor.adopting_executors()
        )

    def try_adopt_task_instances(self, tis: list[Any], owners: dict[int, Any]) -> int:
        adopted = 0
        for name, executor in self.executors.items():
            mine = [ti for ti in tis if ti.executor == name]
            if mine:
                adopted += executor.try_adopt_task_instances(mine, owners)
        return adopted

    @property
    def running_count(self) -> int:
        return sum(executor.running_count for executor in self.executors.values())

    @property
    def open_slots(self) -> int:
        return sum(self.open_slots_by_executor().values())

    def running_tries(self) -> dict[str, int]:
        tries: dict[str, int] = {}
        for executor in self.executors.values():
            tries.update(executor.running_tries())
        return tries

    def wait_handles(self) -> list[Any]:
        return [
            handle for executor in self.executors.values() for handle in executor.wait_handles()
        ]

    def end(self) -> None:
        """End every executor, even when one of them fails to (the first error is raised
        after all were asked)."""
        errors: list[BaseException] = []
        for executor in self.executors.values():
            try:
                executor.end()
            except Exception as exc:  # re-raised below, once the others ended
                errors.append(exc)
        if errors:
            raise errors[0]
