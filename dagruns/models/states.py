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


class DagRunTriggeredBy(models.TextChoices):
    CLI = "cli"
    UI = "ui"
    REST_API = "rest_api"
    TIMETABLE = "timetable"
    TEST = "test"


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
