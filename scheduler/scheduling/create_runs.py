"""Step 1 of a scheduler tick: create the DAG runs that timetables say are due."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction

from dagruns.actions.runs import create_dag_run, generate_run_id
from dagruns.domain.schedule_info import NO_NEXT_RUN, ScheduleError, next_dagrun_fields
from dagruns.domain.timetables import DataInterval
from dagruns.models import DagModel, DagRun, DagRunTriggeredBy, DagRunType
from dagruns.models.states import DAGRUN_ACTIVE
from dagruns.notify import events

logger = logging.getLogger(__name__)


def create_due_runs(now: datetime, limit: int = 100) -> int:
    """Create one run for each due DAG (the next tick picks up further missed ones during a
    catch-up). Returns how many runs were created."""
    created = 0
    due_ids = list(
        DagModel.objects.filter(
            is_active=True, is_paused=False, next_dagrun_create_after__lte=now
        ).values_list("dag_id", flat=True)[:limit]
    )
    for dag_id in due_ids:
        created += _create_next_run(dag_id, now)
    return created


def _create_next_run(dag_id: str, now: datetime) -> int:
    with transaction.atomic():
        # Several schedulers: whoever locks the DAG row creates its run; the others skip it.
        dag = (
            DagModel.objects.select_for_update(skip_locked=True)
            .filter(dag_id=dag_id, next_dagrun_create_after__lte=now)
            .first()
        )
        if dag is None:
            return 0
        active = DagRun.objects.filter(
            dag=dag, state__in=DAGRUN_ACTIVE, backfill__isnull=True
        ).count()
        if active >= dag.max_active_runs:
            # Airflow stops creating runs at max_active_runs and resumes when one finishes.
            return 0
        version = dag.latest_version()
        if (
            version is None
            or dag.next_dagrun is None
            or dag.next_dagrun_create_after is None
            or dag.next_dagrun_data_interval_start is None
            or dag.next_dagrun_data_interval_end is None
        ):
            return 0
        interval = DataInterval(
            dag.next_dagrun_data_interval_start, dag.next_dagrun_data_interval_end
        )
        made = 0
        try:
            with transaction.atomic():
                create_dag_run(
                    dag,
                    version,
                    run_type=DagRunType.SCHEDULED,
                    run_id=generate_run_id(DagRunType.SCHEDULED, dag.next_dagrun),
                    logical_date=dag.next_dagrun,
                    data_interval=(interval.start, interval.end),
                    run_after=dag.next_dagrun_create_after,
                    triggered_by=DagRunTriggeredBy.TIMETABLE,
                )
                made = 1
                events.notify("run", dag_id=dag.dag_id)
        except IntegrityError:
            pass  # a run for this logical date exists (created by hand or a backfill)
        _advance(dag, version.serialized, interval, now)
        return made


def _advance(dag: DagModel, serialized: dict, last: DataInterval, now: datetime) -> None:
    try:
        fields = next_dagrun_fields(serialized, now, last)
    except ScheduleError as exc:
        # A custom timetable that raises stops this DAG's schedule (until its file is parsed
        # again), not the scheduler: asking it again every tick would only repeat the error.
        logger.error("Scheduling stopped for DAG %s: %s", dag.dag_id, exc)
        fields = NO_NEXT_RUN
    DagModel.objects.filter(pk=dag.pk).update(**fields)
