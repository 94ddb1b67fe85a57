"""Creating DAG runs: by the scheduler from a timetable, or by a person (trigger)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from dagruns.actions.audit import Actor, record
from dagruns.actions.dags import get_dag_or_raise
from dagruns.actions.notes import NoteInvalid, check_note
from dagruns.actions.text import check_no_nul
from dagruns.models import (
    Backfill,
    DagModel,
    DagRun,
    DagRunState,
    DagRunTriggeredBy,
    DagRunType,
    DagVersion,
    TaskInstance,
)
from dagruns.notify import events
from dagruns.notify.wakeup import wake_schedulers
from dagruns.sdk.exceptions import ParamValidationError
from dagruns.sdk.params import validate_params

# Airflow 3's [scheduler] allowed_run_id_pattern default. Generated ids (manual__<date>) fit it;
# a "/" would also break the per-run URLs of the UI, REST and Execution APIs.
ALLOWED_RUN_ID = re.compile(r"^[A-Za-z0-9_.~:+-]+$")


class TriggerError(ValueError):
    """A trigger was refused; the message says why (bad conf, duplicate run id, no version)."""


def generate_run_id(run_type: str, when: datetime) -> str:
    """Airflow's shape: `manual__2024-01-01T00:00:00+00:00`."""
    return f"{run_type}__{when.isoformat()}"


def build_dag_run(
    dag: DagModel,
    version: DagVersion,
    *,
    run_type: str,
    run_id: str,
    logical_date: datetime | None,
    data_interval: tuple[datetime, datetime] | None,
    run_after: datetime,
    conf: dict[str, Any] | None = None,
    triggered_by: str = "",
    note: str = "",
    backfill: Backfill | None = None,
    triggered_by_ti: TaskInstance | None = None,
    triggering_user_name: str = "",
) -> DagRun:
    """The queued run, unsaved: what `create_dag_run` inserts and a dry trigger returns."""
    return DagRun(
        dag=dag,
        run_id=run_id,
        run_type=run_type,
        triggered_by=triggered_by,
        triggering_user_name=triggering_user_name,
        state=DagRunState.QUEUED,
        logical_date=logical_date,
        data_interval_start=data_interval[0] if data_interval else None,
        data_interval_end=data_interval[1] if data_interval else None,
        run_after=run_after,
        conf=conf or {},
        note=note,
        queued_at=timezone.now(),
        dag_version=version,
        backfill=backfill,
        triggered_by_ti=triggered_by_ti,
    )


def create_dag_run(dag: DagModel, version: DagVersion, **fields: Any) -> DagRun:
    """Insert a queued run (`fields` as `build_dag_run` takes them) and one task instance per
    task (state none). Call inside a transaction; raises IntegrityError when the run id or
    logical date is taken."""
    run = build_dag_run(dag, version, **fields)
    run.save(force_insert=True)
    TaskInstance.objects.bulk_create(
        [
            TaskInstance(
                dag_run=run,
                dag_id=dag.dag_id,
                run_id=run.run_id,
                task_id=task["task_id"],
                map_index=-1,
                state=None,
                pool=task.get("pool") or "default_pool",
                pool_slots=task.get("pool_slots", 1),
                queue=task.get("queue") or "default",
                priority_weight=task.get("priority_weight_total", task.get("priority_weight", 1)),
                operator=task.get("task_type", ""),
                task_display_name=task.get("task_display_name") or "",
                executor_config=task.get("executor_config") or {},
                max_tries=task.get("retries") or 0,
                dag_version=version,
            )
            for task in version.serialized["tasks"]
        ]
    )
    return run


def check_conf(version: DagVersion, conf: Any) -> dict[str, Any]:
    """Validate trigger conf against the DAG's params before any run exists."""
    if conf is None:
        conf = {}
    if not isinstance(conf, dict):
        raise TriggerError(f"conf must be a JSON object, not {type(conf).__name__}")
    try:
        validate_params(version.serialized.get("params") or {}, conf)
    except ParamValidationError as exc:
        raise TriggerError(str(exc)) from None
    return conf


def do_trigger_dag(
    dag_id: str,
    actor: Actor,
    *,
    conf: Any = None,
    run_id: str | None = None,
    logical_date: datetime | None = None,
    use_now_as_logical_date: bool = True,
    note: str = "",
    triggered_by: str = DagRunTriggeredBy.CLI,
    dry_run: bool = False,
    triggered_by_ti: TaskInstance | None = None,
) -> DagRun:
    """Create a manual run. Paused DAGs may be triggered (the run waits until unpaused, as in
    Airflow). `logical_date` defaults to now for CLI and UI triggers so `ds` and friends are
    defined; the REST API passes None through when the client asks for no logical date.

    With `dry_run`, every check runs (conf against the params, run id, note, a run id already
    taken) and the run that would be created is returned unsaved, its `dag_version` set."""
    from dagruns.domain.schedule_info import ScheduleError, manual_interval

    dag = get_dag_or_raise(dag_id)
    version = dag.latest_version()
    if version is None:
        raise TriggerError(f"DAG {dag_id!r} has not been parsed yet")
    check_no_nul(run_id, "run_id", TriggerError)
    check_no_nul(conf, "conf", TriggerError)
    if run_id is not None and (not ALLOWED_RUN_ID.match(run_id) or len(run_id) > 250):
        raise TriggerError(
            f"run_id {run_id!r} is not allowed: use at most 250 letters, digits and _ . ~ : + -"
        )
    try:
        note = check_note(note)
    except NoteInvalid as exc:
        raise TriggerError(str(exc)) from None
    conf = check_conf(version, conf)
    now = timezone.now()
    if logical_date is None and use_now_as_logical_date:
        logical_date = now
    if logical_date is not None and timezone.is_naive(logical_date):
        logical_date = timezone.make_aware(logical_date, UTC)
    interval = None
    if logical_date is not None:
        try:
            inferred = manual_interval(version.serialized, logical_date)
        except ScheduleError as exc:
            raise TriggerError(str(exc)) from None
        interval = (inferred.start, inferred.end)
    run_id = run_id or generate_run_id(DagRunType.MANUAL, logical_date or now)
    # The same run, built for the dry run's answer or created for real.
    fields: dict[str, Any] = {
        "run_type": DagRunType.MANUAL,
        "run_id": run_id,
        "logical_date": logical_date,
        "data_interval": interval,
        "run_after": now,
        "conf": conf,
        "triggered_by": triggered_by,
        "note": note,
        "triggered_by_ti": triggered_by_ti,
        "triggering_user_name": actor.person or "",
    }
    if dry_run:
        if DagRun.objects.filter(dag_id=dag_id, run_id=run_id).exists():
            raise TriggerError(f"DAG {dag_id!r} already has a run with run_id {run_id!r}")
        return build_dag_run(dag, version, **fields)
    try:
        with transaction.atomic():
            run = create_dag_run(dag, version, **fields)
            record(actor, "trigger", dag_id=dag_id, run_id=run_id, extra={"conf": conf})
            transaction.on_commit(wake_schedulers)
            events.notify("run", dag_id=dag_id, run_id=run_id)
    except IntegrityError:
        raise TriggerError(
            f"DAG {dag_id!r} already has a run with run_id {run_id!r} or logical date "
            f"{logical_date.isoformat() if logical_date else None}"
        ) from None
    return run
