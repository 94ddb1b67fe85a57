"""Task-instance and DAG-run states, declared once, with Airflow 3's names and colours.

Everything that needs a state name, a colour or "is this finished?" reads it from here: the
scheduler, the Execution API, the UI legend and the REST API. Task instances whose state is
NULL are in Airflow's "none" state (created, not yet considered).
"""

from __future__ import annotations

from django.db import models


class TaskInstanceState(models.TextChoices):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    UP_FOR_RETRY = "up_for_retry"
    UP_FOR_RESCHEDULE = "up_for_reschedule"
    DEFERRED = "deferred"
    SKIPPED = "skipped"
    UPSTREAM_FAILED = "upstream_failed"
    REMOVED = "removed"
    RESTARTING = "restarting"

    @property
    def colour(self) -> str:
        return STATE_COLOURS[self.value]


class DagRunState(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"

    @property
    def colour(self) -> str:
        return STATE_COLOURS[self.value]


class DagRunType(models.TextChoices):
    MANUAL = "manual"
    SCHEDULED = "scheduled"
    BACKFILL = "backfill"
    ASSET_TRIGGERED = "asset_triggered"


class DagRunTriggeredBy(models.TextChoices):
    CLI = "cli"
    UI = "ui"
    REST_API = "rest_api"
    TIMETABLE = "timetable"
    TEST = "test"
    ASSET = "asset"
    BACKFILL = "backfill"
    OPERATOR = "operator"


# Airflow's familiar colours (airflow/utils/state.py), so the UI reads like the one users know.
STATE_COLOURS: dict[str | None, str] = {
    None: "lightblue",
    "none": "lightblue",
    "scheduled": "tan",
    "queued": "gray",
    "running": "lime",
    "success": "green",
    "failed": "red",
    "up_for_retry": "gold",
    "up_for_reschedule": "turquoise",
    "deferred": "mediumpurple",
    "skipped": "hotpink",
    "upstream_failed": "orange",
    "removed": "lightgrey",
    "restarting": "violet",
}

# A task instance in one of these will not change again unless someone clears it.
TI_FINISHED = frozenset(
    {
        TaskInstanceState.SUCCESS,
        TaskInstanceState.FAILED,
        TaskInstanceState.SKIPPED,
        TaskInstanceState.UPSTREAM_FAILED,
        TaskInstanceState.REMOVED,
    }
)
# Holding a worker slot or about to: counted against parallelism, pools and max_active_tasks.
TI_OCCUPYING_SLOT = frozenset(
    {TaskInstanceState.QUEUED, TaskInstanceState.RUNNING, TaskInstanceState.RESTARTING}
)
# Not finished: the run cannot end while any task is in one of these (or in "none").
TI_UNFINISHED = frozenset(
    {
        TaskInstanceState.SCHEDULED,
        TaskInstanceState.QUEUED,
        TaskInstanceState.RUNNING,
        TaskInstanceState.UP_FOR_RETRY,
        TaskInstanceState.UP_FOR_RESCHEDULE,
        TaskInstanceState.DEFERRED,
        TaskInstanceState.RESTARTING,
    }
)
# Counted as "failed" by trigger rules (Airflow treats upstream_failed like failed).
TI_FAILED_LIKE = frozenset({TaskInstanceState.FAILED, TaskInstanceState.UPSTREAM_FAILED})

DAGRUN_FINISHED = frozenset({DagRunState.SUCCESS, DagRunState.FAILED})
DAGRUN_ACTIVE = frozenset({DagRunState.QUEUED, DagRunState.RUNNING})


# --- legal transitions ------------------------------------------------------------------------
#
# What the engine may do to a task instance on its own (scheduler, runner, failure detection),
# following Airflow 3's task lifecycle. A person's clear (→ none) and mark (→ success, failed,
# skipped) are legal from every state, as Airflow's clear/mark allow; they are listed apart in
# MANUAL_TI_TARGETS rather than repeated on every row. `None` is the "none" state.
TIS = TaskInstanceState
TI_TRANSITIONS: dict[str | None, frozenset[str | None]] = {
    # Deferred straight from none (or a due retry): start_from_trigger, by the scheduler.
    None: frozenset({TIS.SCHEDULED, TIS.SKIPPED, TIS.UPSTREAM_FAILED, TIS.REMOVED, TIS.DEFERRED}),
    TIS.SCHEDULED: frozenset({TIS.QUEUED, TIS.SKIPPED, TIS.UPSTREAM_FAILED, TIS.REMOVED}),
    # Claimed by a runner; or failed/retried when it never left the queue; or skipped by an
    # upstream branch before it started.
    TIS.QUEUED: frozenset({TIS.RUNNING, TIS.FAILED, TIS.UP_FOR_RETRY, TIS.SKIPPED, TIS.SCHEDULED}),
    TIS.RUNNING: frozenset(
        {
            TIS.SUCCESS,
            TIS.FAILED,
            TIS.UP_FOR_RETRY,
            TIS.SKIPPED,
            TIS.UP_FOR_RESCHEDULE,
            TIS.DEFERRED,
            TIS.RESTARTING,
            # Interrupted by infrastructure, not by the task (a graceful stop's grace ran out):
            # back to the queue at the same try (dagruns/actions/requeue.py).
            TIS.SCHEDULED,
        }
    ),
    TIS.UP_FOR_RETRY: frozenset({TIS.SCHEDULED, TIS.SKIPPED, TIS.UPSTREAM_FAILED, TIS.DEFERRED}),
    TIS.UP_FOR_RESCHEDULE: frozenset({TIS.SCHEDULED, TIS.SKIPPED}),
    # Resumed (scheduled), failed from outside, or ended by its trigger (end_from_trigger).
    TIS.DEFERRED: frozenset(
        {TIS.SCHEDULED, TIS.FAILED, TIS.UP_FOR_RETRY, TIS.SUCCESS, TIS.SKIPPED}
    ),
    TIS.RESTARTING: frozenset({TIS.UP_FOR_RETRY, TIS.FAILED}),
    TIS.SUCCESS: frozenset(),
    TIS.FAILED: frozenset(),
    TIS.SKIPPED: frozenset(),
    TIS.UPSTREAM_FAILED: frozenset(),
    TIS.REMOVED: frozenset(),
}
MANUAL_TI_TARGETS: frozenset[str | None] = frozenset({None, TIS.SUCCESS, TIS.FAILED, TIS.SKIPPED})

# A run: queued → running → success/failed by the scheduler; a person may set any of queued,
# success, failed from any state (Airflow's PATCH dagRun), and a clear reopens a finished run.
DAGRUN_TRANSITIONS: dict[str, frozenset[str]] = {
    DagRunState.QUEUED: frozenset({DagRunState.RUNNING}),
    DagRunState.RUNNING: frozenset({DagRunState.SUCCESS, DagRunState.FAILED}),
    DagRunState.SUCCESS: frozenset({DagRunState.RUNNING}),
    DagRunState.FAILED: frozenset({DagRunState.RUNNING}),
}
MANUAL_DAGRUN_TARGETS = frozenset({DagRunState.QUEUED, DagRunState.SUCCESS, DagRunState.FAILED})


class IllegalStateTransition(ValueError):
    """A move the transition table does not allow; the message names both states."""

    def __init__(self, kind: str, current: str | None, target: str | None) -> None:
        super().__init__(f"a {kind} cannot go from {current or 'none'} to {target or 'none'}")
        self.current = current
        self.target = target


def _state_value(state: str | None) -> str | None:
    return None if state in (None, "none") else str(state)


def ti_transition_allowed(current: str | None, target: str | None, *, manual: bool) -> bool:
    """Whether a task instance may move from `current` to `target`. A manual move (a person's
    clear or mark) may reach MANUAL_TI_TARGETS from anywhere; staying put is never a move."""
    current, target = _state_value(current), _state_value(target)
    if manual and target in MANUAL_TI_TARGETS:
        return True
    return target in TI_TRANSITIONS.get(current, frozenset())


def dagrun_transition_allowed(current: str, target: str, *, manual: bool) -> bool:
    """Whether a DAG run may move from `current` to `target` (see DAGRUN_TRANSITIONS)."""
    if manual and target in MANUAL_DAGRUN_TARGETS:
        return True
    return target in DAGRUN_TRANSITIONS.get(current, frozenset())
