"""The scheduler's part in backfills: make each active backfill's next runs (bounded by its
max_active_runs; dagruns/actions/backfills.py) and start its queued runs, at most
max_active_runs running at once, in the backfill's order. A backfill's limit applies apart
from the DAG's own max_active_runs, as in Airflow; nothing moves while the backfill or its
DAG is paused."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from dagruns.actions.backfills import do_make_backfill_runs
from dagruns.models import Backfill, DagRun, DagRunState
from dagruns.notify import events


def _active_backfills() -> list[int]:
    return list(
        Backfill.objects.filter(
            completed_at=None, is_paused=False, dag__is_paused=False
        ).values_list("pk", flat=True)
    )


def make_backfill_runs(now: datetime) -> int:
    """Runs made (or re-made) for active backfills this tick."""
    return sum(do_make_backfill_runs(pk, now) for pk in _active_backfills())


def start_queued_backfill_runs(now: datetime) -> int:
    """Queued runs of active backfills started this tick."""
    waiting = set(
        DagRun.objects.filter(
            state=DagRunState.QUEUED, backfill__isnull=False, dag__is_paused=False
        ).values_list("backfill_id", flat=True)
    )
    return sum(_start_runs_of(pk, now) for pk in sorted(waiting))


def _start_runs_of(backfill_id: int, now: datetime) -> int:
    """Start the backfill's next queued runs up to its max_active_runs. The backfill row is
    locked first (as examine._start_runs_of locks the DAG row), so two schedulers cannot both
    count the same running runs and both start one."""
    with transaction.atomic():
        backfill = (
            Backfill.objects.select_for_update(skip_locked=True)
            .filter(pk=backfill_id, is_paused=False)
            .first()
        )
        if backfill is None:
            return 0
        running = DagRun.objects.filter(backfill=backfill, state=DagRunState.RUNNING).count()
        room = backfill.max_active_runs - running
        if room <= 0:
            return 0
        queued = (
            DagRun.objects.filter(
                backfill=backfill,
                state=DagRunState.QUEUED,
                backfill_rows__backfill=backfill,
            )
            .order_by("backfill_rows__sort_ordinal")
            .values_list("pk", "run_id")[:room]
        )
        started = []
        for pk, run_id in queued:
            if DagRun.objects.filter(pk=pk, state=DagRunState.QUEUED).update(
                state=DagRunState.RUNNING, start_date=now
            ):
                started.append(run_id)
    for run_id in started:
        events.notify("run", dag_id=backfill.dag_id, run_id=run_id)
    return len(started)
