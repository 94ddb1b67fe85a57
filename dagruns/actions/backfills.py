"""Backfills (Airflow 3's `airflow.models.backfill`): check and create one, dry-run it, pause,
unpause and cancel it, and make its runs.

Where we differ from Airflow, on purpose: Airflow makes every run of a backfill when it is
created (10,000 dates: 10,000 runs with all their task instances in one request). Here creating
a backfill writes its plan (one `BackfillDagRunMap` row per date) and the scheduler makes the
runs from it in order, never more than the backfill's `max_active_runs` unfinished at once. So
creation is quick and bounded, and pausing or cancelling stops runs from being made at all.
The decision for a date that already has a run (reprocess behaviour) is taken when its turn
comes, with the state that run has then; the dry run shows the decision as of now.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from dagruns.actions.audit import Actor, record
from dagruns.actions.dags import get_dag_or_raise
from dagruns.actions.errors import ActionRefused
from dagruns.actions.runs import TriggerError, check_conf, create_dag_run, generate_run_id
from dagruns.actions.task_instances import do_clear
from dagruns.domain.backfill_dates import NonPeriodicSchedule, TooManyIntervals, backfill_infos
from dagruns.domain.dag_graph import build_graph
from dagruns.domain.schedule_info import ScheduleError
from dagruns.models import (
    Backfill,
    BackfillDagRunExceptionReason,
    BackfillDagRunMap,
    DagModel,
    DagRun,
    DagRunState,
    DagRunTriggeredBy,
    DagRunType,
    DagVersion,
    ReprocessBehavior,
    TaskInstance,
)
from dagruns.models.states import DAGRUN_ACTIVE, DAGRUN_FINISHED
from dagruns.notify import events
from dagruns.notify.wakeup import wake_schedulers

log = logging.getLogger(__name__)

# The most dates one backfill may cover. Airflow sets no limit and makes every run at once; we
# make runs as the backfill goes, but its plan and its dry run still list every date.
MAX_BACKFILL_RUNS = 100_000
DEFAULT_MAX_ACTIVE_RUNS = 10  # Airflow's BackfillPostBody default


class BackfillRefused(ActionRefused):
    """Bad input for a backfill; the message names the field and why (Airflow: 422)."""


class BackfillNotFound(LookupError):
    def __init__(self, backfill_id: int) -> None:
        super().__init__(f"Could not find backfill with id {backfill_id}")


class AlreadyRunningBackfill(ActionRefused):
    """The DAG has an uncompleted backfill already (Airflow: 409)."""


class BackfillCompleted(ActionRefused):
    """Pause, unpause or cancel of a completed backfill (Airflow: 409)."""

    def __init__(self) -> None:
        super().__init__("Backfill is already completed.")


@dataclass(frozen=True)
class BackfillRequest:
    """What a backfill is asked to do: Airflow's BackfillPostBody."""

    dag_id: str
    from_date: datetime
    to_date: datetime
    run_backwards: bool = False
    dag_run_conf: dict[str, Any] | None = None
    reprocess_behavior: str | None = ReprocessBehavior.NONE
    max_active_runs: int = DEFAULT_MAX_ACTIVE_RUNS


@dataclass(frozen=True)
class PlannedRun:
    """One date of a dry run: its interval, the run it already has (if any) and what the
    backfill would do with it: "create", "clear" (reprocess the existing run), or Airflow's
    reason for making no run ("already exists", "in flight")."""

    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime
    run_after: datetime
    existing_run_id: str | None
    existing_state: str | None
    outcome: str

    @property
    def will_run(self) -> bool:
        return self.outcome in ("create", "clear")


@dataclass
class BackfillPlan:
    """A checked request: the DAG, its version and the dates, each with its decision now."""

    request: BackfillRequest
    dag: DagModel
    version: DagVersion
    reprocess_behavior: str
    runs: list[PlannedRun] = field(default_factory=list)


def _aware(value: datetime) -> datetime:
    return timezone.make_aware(value, UTC) if timezone.is_naive(value) else value


def no_create_reason(state: str, reprocess_behavior: str) -> str | None:
    """Airflow's `_get_dag_run_no_create_reason`: why a date whose run is in `state` gets no
    new run, or None when the backfill re-runs it."""
    if state not in DAGRUN_FINISHED:
        return BackfillDagRunExceptionReason.IN_FLIGHT
    if reprocess_behavior == ReprocessBehavior.NONE:
        return BackfillDagRunExceptionReason.ALREADY_EXISTS
    if reprocess_behavior == ReprocessBehavior.FAILED and state != DagRunState.FAILED:
        return BackfillDagRunExceptionReason.ALREADY_EXISTS
    return None


def _check_reprocess_behavior(value: str | None) -> str | None:
    if value is None:
        return None
    if value not in ReprocessBehavior.values:
        raise BackfillRefused(
            f"reprocess_behavior {value!r} is not one of {', '.join(ReprocessBehavior.values)}"
        )
    return value


def check_backfill(request: BackfillRequest, now: datetime | None = None) -> BackfillPlan:
    """Every check Airflow's `_validate_backfill_params` and `_do_dry_run` make, plus ours
    (max_active_runs, the size limit), and the dates with what would happen to each. Raises
    DagNotFound for an unknown DAG, BackfillRefused naming the problem otherwise."""
    now = now or timezone.now()
    dag = get_dag_or_raise(request.dag_id)
    version = dag.latest_version()
    if version is None:
        raise BackfillRefused(f"DAG {request.dag_id!r} has not been parsed yet")
    behavior = _check_reprocess_behavior(request.reprocess_behavior)
    if isinstance(request.max_active_runs, bool) or request.max_active_runs < 1:
        raise BackfillRefused(
            f"max_active_runs must be a whole number of at least 1, not {request.max_active_runs!r}"
        )
    from_date, to_date = _aware(request.from_date), _aware(request.to_date)
    if from_date > to_date:
        raise BackfillRefused(
            f"from_date ({from_date.isoformat()}) must not be after to_date "
            f"({to_date.isoformat()})."
        )
    if from_date >= now and to_date >= now:
        raise BackfillRefused("Backfill cannot be executed for future dates.")
    serialized = version.serialized
    try:
        infos = backfill_infos(
            serialized,
            from_date,
            to_date,
            now=now,
            reverse=request.run_backwards,
            limit=MAX_BACKFILL_RUNS,
        )
    except (NonPeriodicSchedule, TooManyIntervals, ScheduleError) as exc:
        raise BackfillRefused(str(exc)) from None
    if any(t.depends_on_past for t in build_graph(serialized).tasks.values()):
        if request.run_backwards:
            raise BackfillRefused(
                "Backfill cannot be run in reverse when the DAG has tasks where "
                "depends_on_past=True."
            )
        if behavior in (None, ReprocessBehavior.NONE):
            raise BackfillRefused(
                "DAG has tasks for which depends_on_past=True. You must set reprocess_behavior "
                "to reprocess completed or reprocess failed."
            )
    if request.dag_run_conf is not None:
        try:
            check_conf(version, request.dag_run_conf)
        except TriggerError as exc:
            raise BackfillRefused(f"dag_run_conf: {exc}") from None
    if not infos:
        raise BackfillRefused(
            f"No runs to create for DAG {request.dag_id} between {from_date.isoformat()} and "
            f"{to_date.isoformat()}"
        )
    behavior = behavior or ReprocessBehavior.NONE
    existing = _existing_runs(request.dag_id, infos)
    runs = []
    for info in infos:
        found = existing.get(info.logical_date)
        outcome = "create" if found is None else no_create_reason(found[1], behavior) or "clear"
        runs.append(
            PlannedRun(
                logical_date=info.logical_date,
                data_interval_start=info.data_interval.start,
                data_interval_end=info.data_interval.end,
                run_after=info.run_after,
                existing_run_id=found[0] if found else None,
                existing_state=found[1] if found else None,
                outcome=outcome,
            )
        )
    return BackfillPlan(request, dag, version, behavior, runs)


def _existing_runs(dag_id: str, infos: list) -> dict[datetime, tuple[str, str]]:
    """The DAG's runs on the backfill's dates, in one query over the range (not one per date:
    a dry run of 10,000 dates answers in one statement)."""
    dates = [i.logical_date for i in infos]
    rows = DagRun.objects.filter(
        dag_id=dag_id, logical_date__gte=min(dates), logical_date__lte=max(dates)
    ).values_list("logical_date", "run_id", "state")
    wanted = set(dates)
    return {
        when: (run_id, state) for when, run_id, state in rows if when is not None and when in wanted
    }


def do_dry_run_backfill(request: BackfillRequest) -> BackfillPlan:
    """The dates a backfill would cover and what it would do with each; changes nothing."""
    return check_backfill(request)


def do_create_backfill(request: BackfillRequest, actor: Actor) -> Backfill:
    """Create the backfill and its plan; the scheduler makes the runs (module docstring).
    Refuses (AlreadyRunningBackfill) when the DAG has an uncompleted backfill."""
    plan = check_backfill(request)
    with transaction.atomic():
        # Two requests at once must not both find "no active backfill": the DAG row is locked
        # first, so the second one's check runs after the first one's insert committed.
        DagModel.objects.select_for_update().filter(pk=plan.dag.pk).first()
        if Backfill.objects.filter(dag=plan.dag, completed_at=None).exists():
            raise AlreadyRunningBackfill(
                f"Another backfill is running for DAG {request.dag_id}. There can be only one "
                "running backfill per DAG."
            )
        backfill = Backfill.objects.create(
            dag=plan.dag,
            from_date=_aware(request.from_date),
            to_date=_aware(request.to_date),
            dag_run_conf=request.dag_run_conf or {},
            reprocess_behavior=plan.reprocess_behavior,
            max_active_runs=request.max_active_runs,
            run_backwards=request.run_backwards,
            triggering_user_name=actor.name,
        )
        BackfillDagRunMap.objects.bulk_create(
            [
                BackfillDagRunMap(
                    backfill=backfill,
                    logical_date=run.logical_date,
                    data_interval_start=run.data_interval_start,
                    data_interval_end=run.data_interval_end,
                    run_after=run.run_after,
                    sort_ordinal=ordinal,
                )
                for ordinal, run in enumerate(plan.runs, start=1)
            ],
            batch_size=1000,
        )
        record(
            actor,
            "backfill",
            dag_id=request.dag_id,
            extra={
                "backfill_id": backfill.pk,
                "from_date": backfill.from_date.isoformat(),
                "to_date": backfill.to_date.isoformat(),
                "runs": len(plan.runs),
            },
        )
        transaction.on_commit(wake_schedulers)
        events.notify("dag", dag_id=request.dag_id)
    return backfill


def get_backfill_or_raise(backfill_id: int) -> Backfill:
    try:
        return Backfill.objects.select_related("dag").get(pk=backfill_id)
    except Backfill.DoesNotExist:
        raise BackfillNotFound(backfill_id) from None


def _set_paused(backfill_id: int, paused: bool, actor: Actor) -> Backfill:
    with transaction.atomic():
        backfill = get_backfill_or_raise(backfill_id)
        if backfill.completed_at is not None:
            raise BackfillCompleted()
        if backfill.is_paused != paused:
            backfill.is_paused = paused
            backfill.save(update_fields=["is_paused", "updated_at"])
            record(
                actor,
                "backfill_paused" if paused else "backfill_unpaused",
                dag_id=backfill.dag_id,
                extra={"backfill_id": backfill.pk},
            )
            transaction.on_commit(wake_schedulers)
            events.notify("dag", dag_id=backfill.dag_id)
    return backfill


def do_pause_backfill(backfill_id: int, actor: Actor) -> Backfill:
    """Stop making and starting the backfill's runs; runs already going carry on."""
    return _set_paused(backfill_id, True, actor)


def do_unpause_backfill(backfill_id: int, actor: Actor) -> Backfill:
    return _set_paused(backfill_id, False, actor)


def do_cancel_backfill(backfill_id: int, actor: Actor) -> Backfill:
    """Airflow's cancel: pause it, fail its queued runs, mark it completed. Running runs carry
    on to their end; no further run is made or started."""
    now = timezone.now()
    with transaction.atomic():
        backfill = get_backfill_or_raise(backfill_id)
        if backfill.completed_at is not None:
            raise BackfillCompleted()
        queued = list(
            DagRun.objects.filter(backfill=backfill, state=DagRunState.QUEUED).values_list(
                "run_id", flat=True
            )
        )
        DagRun.objects.filter(backfill=backfill, state=DagRunState.QUEUED).update(
            state=DagRunState.FAILED, end_date=now
        )
        backfill.is_paused = True
        backfill.completed_at = now
        backfill.save(update_fields=["is_paused", "completed_at", "updated_at"])
        record(
            actor,
            "backfill_cancelled",
            dag_id=backfill.dag_id,
            extra={"backfill_id": backfill.pk, "failed_queued_runs": len(queued)},
        )
        for run_id in queued:
            events.notify("run", dag_id=backfill.dag_id, run_id=run_id)
        events.notify("dag", dag_id=backfill.dag_id)
    return backfill


# --- making the runs (called by the scheduler) ------------------------------------------------

# How many dates one call looks at, so a tick stays short even when thousands of dates in a
# row already have runs and are skipped.
ROWS_PER_CALL = 500


def do_make_backfill_runs(backfill_id: int, now: datetime) -> int:
    """Make the backfill's next runs, in its order, until it has `max_active_runs` unfinished
    runs; mark it completed when nothing is left to make and its runs have finished. Returns
    how many runs were made or re-made. Several schedulers: the backfill's row is locked, a
    scheduler that finds it locked skips it."""
    with transaction.atomic():
        backfill = (
            Backfill.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("dag")
            .filter(pk=backfill_id, completed_at=None, is_paused=False)
            .first()
        )
        if backfill is None:
            return 0
        active = DagRun.objects.filter(backfill=backfill, state__in=DAGRUN_ACTIVE).count()
        room = backfill.max_active_runs - active
        made = 0
        pending = BackfillDagRunMap.objects.filter(
            backfill=backfill, dag_run=None, exception_reason=""
        ).order_by("sort_ordinal")
        version = backfill.dag.latest_version()
        rows = list(pending[:ROWS_PER_CALL]) if room > 0 and version is not None else []
        for row in rows:
            if made >= room:
                break
            made += _make_run(backfill, row, version)
        if (
            made == 0
            and active == 0
            and not BackfillDagRunMap.objects.filter(
                backfill=backfill, dag_run=None, exception_reason=""
            ).exists()
        ):
            backfill.completed_at = now
            backfill.save(update_fields=["completed_at", "updated_at"])
            events.notify("dag", dag_id=backfill.dag_id)
    if made:
        wake_schedulers()
    return made


def _make_run(backfill: Backfill, row: BackfillDagRunMap, version: DagVersion | None) -> int:
    """Make (1) or skip (0) the run of one date: Airflow's
    `_create_backfill_dag_run_non_partitioned`."""
    assert version is not None
    existing = DagRun.objects.filter(dag=backfill.dag, logical_date=row.logical_date).first()
    if existing is not None:
        reason = no_create_reason(existing.state, backfill.reprocess_behavior)
        if reason:
            row.exception_reason = reason
            row.save(update_fields=["exception_reason"])
            return 0
        _reprocess(backfill, row, existing)
        return 1
    conf = backfill.dag_run_conf or {}
    try:
        with transaction.atomic():
            run = create_dag_run(
                backfill.dag,
                version,
                run_type=DagRunType.BACKFILL,
                run_id=generate_run_id(DagRunType.BACKFILL, row.logical_date),
                logical_date=row.logical_date,
                data_interval=(row.data_interval_start, row.data_interval_end),
                run_after=row.run_after,
                conf=conf,
                triggered_by=DagRunTriggeredBy.BACKFILL,
                backfill=backfill,
                triggering_user_name=backfill.triggering_user_name,
            )
    except IntegrityError:
        # Made by someone else since we looked (a trigger with this date or run id).
        row.exception_reason = BackfillDagRunExceptionReason.IN_FLIGHT
        row.save(update_fields=["exception_reason"])
        return 0
    row.dag_run = run
    row.save(update_fields=["dag_run"])
    events.notify("run", dag_id=backfill.dag_id, run_id=run.run_id)
    return 1


def _reprocess(backfill: Backfill, row: BackfillDagRunMap, run: DagRun) -> None:
    """Airflow's `_handle_clear_run`: clear the finished run back to queued and make it the
    backfill's (run type, triggered by, and its conf when the backfill has one)."""
    tis = list(TaskInstance.objects.filter(dag_run=run))
    do_clear(tis, Actor(name="backfill"), reset_dag_runs=False)
    fields: dict[str, Any] = {
        "state": DagRunState.QUEUED,
        "queued_at": timezone.now(),
        "start_date": None,
        "end_date": None,
        "backfill": backfill,
        "run_type": DagRunType.BACKFILL,
        "triggered_by": DagRunTriggeredBy.BACKFILL,
        "clear_number": F("clear_number") + 1,
    }
    if backfill.dag_run_conf:
        fields["conf"] = backfill.dag_run_conf
    DagRun.objects.filter(pk=run.pk).update(**fields)
    row.dag_run = run
    row.save(update_fields=["dag_run"])
    events.notify("run", dag_id=backfill.dag_id, run_id=run.run_id)
