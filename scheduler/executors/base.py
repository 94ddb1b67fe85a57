"""The executor contract (Airflow's BaseExecutor, trimmed to what we use).

The scheduler hands an executor *workloads* (scheduler/runner/workload.py, the typed and
versioned contract of docs/engine.md) with `queue()`; the executor
starts the task runner somewhere; `sync()` reports runner processes that ended, so the scheduler
can fail a try whose runner died without reporting; `terminate()` kills a try; `open_slots`
is how many more tasks it will take (ORCH_PARALLELISM).

Several executors at once (`ORCH_EXECUTOR=local,celery`, as Airflow 3's `[core] executor` list)
are one routing executor (scheduler/executors/multi.py) to the scheduler: it asks which
executor a task goes to (`executor_for`), how many slots each has (`open_slots_by_executor`)
and queues on that one (`queue_on`). A single executor answers for itself alone.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scheduler.runner.workload import Workload

# Executors whose runners live under their own workers on any host, never under a scheduler:
# a scheduler restarting does not adopt (or fail) their tries on its host, nor kill them when
# it stops; their workers and the heartbeat timeout answer for them.
# Kubernetes pods outlive their scheduler the same way; the executor adopts them at start and
# at its orphan checks (scheduling/adoption.py) when another scheduler died.
REMOTE_EXECUTORS = frozenset({"celery", "kubernetes"})


@dataclass(frozen=True)
class ExecutorEvent:
    """A runner ended: `returncode` 0 means it reported its own final state. `reason` is why,
    when the executor knows better than an exit code (a pod OOMKilled, deleted, never started);
    `details` are lines for the try's log (what a pod's container printed)."""

    ti_id: str
    try_number: int
    returncode: int
    reason: str | None = None
    details: tuple[str, ...] = ()


class BaseExecutor(ABC):
    name = "base"

    def __init__(self, parallelism: int) -> None:
        self.parallelism = parallelism

    def start(self) -> None:  # noqa: B027 — optional hook
        """Prepare (warm worker processes, connect to a broker)."""

    def on_scheduler_started(self, job_id: int) -> None:  # noqa: B027 — optional hook
        """The scheduler (Job `job_id`) has recovered what its predecessors left: adopt the
        runners that outlive schedulers (Kubernetes pods)."""

    @abstractmethod
    def queue(self, workload: Workload) -> None:
        """Start a runner for this try (send `workload.to_json_bytes()` across any boundary;
        the runner validates it with `Workload.parse`)."""

    @abstractmethod
    def sync(self) -> list[ExecutorEvent]:
        """Collect ended runners without blocking."""

    @abstractmethod
    def terminate(self, ti_id: str) -> bool:
        """Kill the runner of this task instance (and everything it started)."""

    @property
    @abstractmethod
    def running_count(self) -> int: ...

    def running_tries(self) -> dict[str, int]:
        """ti_id -> try_number of the runners this executor is running now."""
        return {}

    def tries_to_drain(self) -> dict[str, int]:
        """The running tries a stopping scheduler waits for, then kills and gives back: those
        whose runners live and die with this process (not a Celery worker's)."""
        return self.running_tries()

    def can_resend(self, executor_name: str) -> bool:
        """True when tries queued through executor `executor_name` (TaskInstance.executor)
        travel as messages a broker may lose, so the scheduler's health step sends a try that
        stays queued again (same try, fresh token) before failing it."""
        return False

    def resends_done(self, ti_id: str, try_number: int) -> int:
        """How many times this executor has sent this try again (see can_resend)."""
        return 0

    def resend(self, workload: Workload, count: int) -> None:
        """Send a try that stays queued again: the `count`-th re-send of it."""
        self.queue(workload)

    @property
    def open_slots(self) -> int:
        return max(0, self.parallelism - self.running_count)

    def executor_for(self, requested: str | None) -> str | None:
        """The name of the executor that runs a task whose operator asked for `requested`
        (None: the default), or None when there is no such executor here. A single executor
        runs the tasks that ask for it or for none."""
        return self.name if requested is None or requested == self.name else None

    def open_slots_by_executor(self) -> dict[str, int]:
        """Open slots per executor name: each executor has its own ORCH_PARALLELISM, as each
        of Airflow 3's executors has its own `parallelism`."""
        return {self.name: self.open_slots}

    def queue_on(self, executor_name: str, workload: Workload) -> None:
        """Queue on the executor `executor_for` named (a single executor is its only one)."""
        self.queue(workload)

    def wait_handles(self) -> list[Any]:
        """Objects the scheduler loop may wait on (readable when a runner ended)."""
        return []

    def end(self) -> None:  # noqa: B027 — optional hook
        """Stop taking work and terminate running tasks."""

    def adopting_executors(self) -> frozenset[str]:
        """Names of the executors here that take over a dead scheduler's tries while this
        scheduler runs (scheduling/adoption.py; Celery, Kubernetes)."""
        return frozenset()

    def try_adopt_task_instances(self, tis: list[Any], owners: dict[int, Any]) -> int:
        """Take over these queued or running tries (TaskInstance rows of an executor named by
        `adopting_executors`) whose scheduler is dead (`owners`: those Job rows by id), as
        Airflow's BaseExecutor.try_adopt_task_instances. Returns how many were adopted."""
        return 0


def load_executor(names: str | Sequence[str], parallelism: int) -> BaseExecutor:
    """The executor(s) ORCH_EXECUTOR names (a comma-separated string or a list; the first is
    the default): one name is that executor itself, several are a routing executor over them,
    each with its own `parallelism`."""
    if isinstance(names, str):
        names = [name.strip() for name in names.split(",")]
    if len(names) == 1:
        return _load_one(names[0], parallelism)
    from scheduler.executors.multi import MultiExecutor

    return MultiExecutor({name: _load_one(name, parallelism) for name in names})


def _load_one(name: str, parallelism: int) -> BaseExecutor:
    if name == "local":
        from scheduler.executors.local import LocalExecutor

        return LocalExecutor(parallelism)
    if name == "celery":
        from scheduler.executors.celery import CeleryExecutor

        return CeleryExecutor(parallelism)
    if name == "kubernetes":
        from scheduler.executors.kubernetes.executor import KubernetesExecutor

        return KubernetesExecutor(parallelism)
    raise ValueError(
        f"unknown executor {name!r} (ORCH_EXECUTOR); available: local, celery, kubernetes"
    )
