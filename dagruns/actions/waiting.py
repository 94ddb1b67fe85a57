"""Why a task instance is not running yet, answered once for every surface.

The REST API's `…/dependencies` and the task page's "why is it waiting" list both come from
`why_waiting`, named as Airflow's `ti_deps` name them ("Dag Not Paused", "Dagrun Running",
"Trigger Rule", "Not In Retry Period", "Pool Slots Available", "Task Instance State") and
decided by the scheduler's own rules (trigger rules, pools), so the answer matches what the
scheduler does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from dagruns.actions.pools import usage
from dagruns.domain.dag_graph import DagGraph, graph_for_version
from dagruns.domain.past_runs import DEP_NAME as PAST_DEP_NAME
from dagruns.domain.past_runs import past_depends_unmet
from dagruns.domain.trigger_rules import UpstreamCounts, evaluate
from dagruns.domain.workers import census
from dagruns.models import DagModel, DagRun, Pool, TaskInstance, Trigger
from dagruns.models.states import TI_FINISHED, TI_OCCUPYING_SLOT, DagRunState, TaskInstanceState

TIS = TaskInstanceState
# Not started, or between tries: the states a task instance waits in.
WAITING_STATES = frozenset(
    {None, TIS.SCHEDULED, TIS.QUEUED, TIS.UP_FOR_RETRY, TIS.UP_FOR_RESCHEDULE, TIS.DEFERRED}
)
# Airflow answers the dependencies endpoint only for these ("not yet queued").
NOT_STARTED = frozenset({None, TIS.SCHEDULED})
_STATE_WORDS: dict[str | None, str] = {
    None: "has not started",
    TIS.SCHEDULED: "is scheduled",
    TIS.QUEUED: "is queued",
    TIS.RUNNING: "is running",
    TIS.UP_FOR_RETRY: "is waiting to retry",
    TIS.UP_FOR_RESCHEDULE: "is waiting to be rescheduled",
    TIS.DEFERRED: "is deferred",
    TIS.RESTARTING: "is restarting",
}


# What a task instance between start and finish waits for, in Airflow's "Task Instance State".
_STATE_SENTENCES: dict[str | None, str] = {
    TIS.QUEUED: "Task is queued: waiting for a worker to start it.",
    TIS.DEFERRED: "Task is deferred: waiting for its trigger to fire.",
}


@dataclass(frozen=True)
class WaitReason:
    """One dependency the task instance fails: Airflow's dep `name`, the `reason` sentence,
    and `code`, the id inside the sentence a page shows as code."""

    name: str
    reason: str
    code: str = ""
    # Trigger Rule only: the upstream tasks not finished yet, with their states.
    pending_upstream: tuple[tuple[str, str | None], ...] = ()

    @property
    def before(self) -> str:
        return self.reason.partition(self.code)[0] if self.code else self.reason

    @property
    def after(self) -> str:
        return self.reason.partition(self.code)[2] if self.code else ""


def state_words(state: str | None) -> str:
    """How a page says a task instance's state in a sentence ("is running")."""
    return _STATE_WORDS.get(state, f"is {state}")


def why_waiting(
    ti: TaskInstance,
    *,
    run: DagRun | None = None,
    dag: DagModel | None = None,
    now: datetime | None = None,
) -> list[WaitReason]:
    """Every reason `ti` is not running now; empty once it runs or finished. Pass the run
    and DAG a page already holds; otherwise they are read through the relations."""
    if ti.state not in WAITING_STATES:
        return []
    run = run or ti.dag_run
    dag = dag or run.dag
    reasons: list[WaitReason] = []
    if dag.is_paused:
        reasons.append(
            WaitReason("Dag Not Paused", f"Task's DAG '{ti.dag_id}' is paused.", ti.dag_id)
        )
    if run.state != DagRunState.RUNNING:
        reasons.append(
            WaitReason(
                "Dagrun Running",
                "Task instance's dagrun was not in the 'running' state but in the state "
                f"'{run.state}'.",
            )
        )
    version_id = ti.dag_version_id or run.dag_version_id
    if ti.state in NOT_STARTED and version_id is not None:
        reasons.extend(_upstream_reasons(ti, graph_for_version(version_id)))
        reasons.extend(_executor_reasons(ti, graph_for_version(version_id)))
        reasons.extend(_task_concurrency_reasons(ti, graph_for_version(version_id)))
        unmet_past = past_depends_unmet(run, ti.task_id, version_id)
        if unmet_past:
            reasons.append(WaitReason(PAST_DEP_NAME, unmet_past))
    reasons.extend(_state_reasons(ti, now or timezone.now()))
    if ti.state in NOT_STARTED:
        reasons.extend(_pool_reasons(ti))
    return reasons


def _upstream_reasons(ti: TaskInstance, graph: DagGraph) -> list[WaitReason]:
    spec = graph.tasks.get(ti.task_id)
    if spec is None or not spec.upstream:
        return []
    states = dict(
        TaskInstance.objects.filter(
            dag_run_id=ti.dag_run_id, task_id__in=spec.upstream
        ).values_list("task_id", "state")
    )
    counts = UpstreamCounts.of(
        (states.get(up), graph.tasks[up].is_setup if up in graph.tasks else False)
        for up in spec.upstream
    )
    decision = evaluate(spec.trigger_rule, counts)
    if decision.ready:
        return []
    if decision.new_state:
        reason = f"{decision.reason}: it will be {decision.new_state}"
    else:
        reason = (
            decision.reason or f"Task's trigger rule '{spec.trigger_rule}' is not yet satisfied"
        )
    pending = tuple(
        (up, states.get(up)) for up in spec.upstream if states.get(up) not in TI_FINISHED
    )
    if pending:
        reason += "; upstream " + ", ".join(f"{up} {state_words(state)}" for up, state in pending)
    return [WaitReason("Trigger Rule", f"{reason} (trigger rule {spec.trigger_rule})", "", pending)]


def _executor_reasons(ti: TaskInstance, graph: DagGraph) -> list[WaitReason]:
    """A task naming an executor this deployment does not run (its DAG version was stored
    before ORCH_EXECUTOR dropped it): the scheduler leaves it scheduled until it is back."""
    spec = graph.tasks.get(ti.task_id)
    if spec is None or spec.executor is None or spec.executor in settings.ORCH.executors:
        return []
    return [
        WaitReason(
            "Executor Configured",
            f"Task asks for executor {spec.executor} which is not configured "
            f"(ORCH_EXECUTOR={settings.ORCH.executor}): it stays scheduled until it is.",
            spec.executor,
        )
    ]


def _task_concurrency_reasons(ti: TaskInstance, graph: DagGraph) -> list[WaitReason]:
    """The task's own limits, counted as the scheduler's queueing counts them (queued,
    running or restarting tries of this task; across all runs, or within this run)."""
    spec = graph.tasks.get(ti.task_id)
    if spec is None:
        return []
    same_task = TaskInstance.objects.filter(
        dag_id=ti.dag_id, task_id=ti.task_id, state__in=TI_OCCUPYING_SLOT
    )
    reasons = []
    limit = spec.max_active_tis_per_dag
    if limit is not None:
        active = same_task.count()
        if active >= limit:
            reasons.append(
                WaitReason(
                    "Task Concurrency",
                    f"The max task concurrency has been reached: max_active_tis_per_dag={limit} "
                    f"and {active} instances of this task are queued or running across all runs.",
                    f"max_active_tis_per_dag={limit}",
                )
            )
    limit = spec.max_active_tis_per_dagrun
    if limit is not None:
        active = same_task.filter(dag_run_id=ti.dag_run_id).count()
        if active >= limit:
            reasons.append(
                WaitReason(
                    "Task Concurrency",
                    "The max task concurrency per run has been reached: "
                    f"max_active_tis_per_dagrun={limit} and {active} instances of this task are "
                    "queued or running in this run.",
                    f"max_active_tis_per_dagrun={limit}",
                )
            )
    return reasons


def _state_reasons(ti: TaskInstance, now: datetime) -> list[WaitReason]:
    if ti.state == TIS.UP_FOR_RETRY:
        if ti.next_retry_at is not None and ti.next_retry_at > now:
            when = ti.next_retry_at.strftime("%Y-%m-%d %H:%M:%S")
            return [
                WaitReason(
                    "Not In Retry Period",
                    f"Task is not ready for retry yet but will be retried automatically at "
                    f"{when} UTC (try {ti.try_number + 1} next).",
                )
            ]
        return [
            WaitReason(
                "Not In Retry Period", "Task is ready to retry: the scheduler picks it up next."
            )
        ]
    if ti.state == TIS.UP_FOR_RESCHEDULE:
        return [_reschedule_reason(ti, now)]
    if ti.state == TIS.QUEUED and ti.executor == "celery":
        return [_celery_queue_reason(ti.queue)]
    if ti.state == TIS.DEFERRED and ti.trigger_id is not None:
        return [_deferred_reason(ti, ti.trigger_id)]
    words = _STATE_SENTENCES.get(ti.state)
    return [WaitReason("Task Instance State", words)] if words else []


def _deferred_reason(ti: TaskInstance, trigger_id: int) -> WaitReason:
    """What a deferred task waits on: its trigger, whether a triggerer runs it, its timeout."""
    trigger = Trigger.objects.filter(pk=trigger_id).values("classpath", "triggerer_id").first()
    if trigger is None:
        return WaitReason("Task Instance State", _STATE_SENTENCES[TIS.DEFERRED])
    running = (
        f"triggerer {trigger['triggerer_id']} runs it"
        if trigger["triggerer_id"] is not None
        else "no triggerer has taken it yet (is `manage.py triggerer` running?)"
    )
    sentence = (
        f"Task is deferred: waiting for its trigger {trigger['classpath']} to fire; {running}"
    )
    if ti.trigger_timeout is not None:
        sentence += f"; it times out at {ti.trigger_timeout:%Y-%m-%d %H:%M:%S} UTC"
    return WaitReason("Task Instance State", sentence + ".", trigger["classpath"])


def _reschedule_reason(ti: TaskInstance, now: datetime) -> WaitReason:
    """Airflow's "Ready To Reschedule" dependency, for a reschedule-mode sensor."""
    if ti.next_retry_at is not None and ti.next_retry_at > now:
        return WaitReason(
            "Ready To Reschedule",
            "Task is not ready for reschedule yet but will be rescheduled automatically. "
            f"Current date is {now:%Y-%m-%d %H:%M:%S} UTC and task will be rescheduled at "
            f"{ti.next_retry_at:%Y-%m-%d %H:%M:%S} UTC (same try {ti.try_number}).",
        )
    return WaitReason(
        "Ready To Reschedule", "Task is ready for reschedule: the scheduler picks it up next."
    )


def _celery_queue_reason(queue: str) -> WaitReason:
    """Whether a live Celery worker serves the try's queue (the worker registry says)."""
    workers = census()
    if workers.problem:
        sentence = (
            f"Task is queued on queue {queue}: waiting for a Celery worker ({workers.problem})."
        )
    elif not workers.workers:
        sentence = f"Task is queued on queue {queue}, which no live Celery worker serves (no Celery worker is live)."
    elif not workers.serving(queue):
        served = ", ".join(workers.served_queues())
        sentence = f"Task is queued on queue {queue}, which no live Celery worker serves (workers serve: {served})."
    else:
        names = ", ".join(w.name for w in workers.serving(queue))
        sentence = f"Task is queued on queue {queue}: waiting for a free slot of a Celery worker serving it ({names})."
    return WaitReason("Task Instance State", sentence, queue)


def _pool_reasons(ti: TaskInstance) -> list[WaitReason]:
    pool = Pool.objects.filter(name=ti.pool).first()
    if pool is None:
        return [
            WaitReason(
                "Pool Slots Available",
                f"Tasks using non-existent pool '{ti.pool}' will not be scheduled.",
                ti.pool,
            )
        ]
    if ti.state != TIS.SCHEDULED or pool.slots == -1:
        return []
    taken = usage([pool.name]).get(pool.name, {})
    occupied = taken.get(TIS.RUNNING, 0) + taken.get(TIS.QUEUED, 0)
    if pool.include_deferred:
        occupied += taken.get(TIS.DEFERRED, 0)
    open_slots = pool.slots - occupied
    if open_slots >= ti.pool_slots:
        return []
    return [
        WaitReason(
            "Pool Slots Available",
            f"Not scheduling since there are {open_slots} open slots in pool {pool.name} and "
            f"{ti.pool_slots} are required.",
            pool.name,
        )
    ]
