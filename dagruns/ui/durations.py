"""The Durations tab's data: the DAG's last runs and every task's instances in them, in two
queries whatever the number of runs or tasks (plus the version's structure, cached), drawn as
duration charts and summed up per task."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from statistics import mean
from typing import Any

from dagruns.models import DagModel, DagRun, TaskInstance
from dagruns.ui import format as fmt
from dagruns.ui.duration_chart import Chart, Span, build_chart
from dagruns.ui.gantt import FOLDED_FIELDS, fold_mapped
from dagruns.ui.structure import structure_for
from dagruns.ui.urls import dag_url, run_url, ti_url

DEFAULT_RUNS = 25
MAX_RUNS = 100


@dataclass(frozen=True)
class TaskSummary:
    """One task across the charted runs: how long its runs took (running time only)."""

    task_id: str
    label: str
    runs: int
    mean: str
    longest: str
    last: str
    last_state: str
    selected: bool


@dataclass(frozen=True)
class Durations:
    run_chart: Chart
    task_chart: Chart | None
    tasks: list[TaskSummary]
    task_id: str  # the task whose chart is shown ("" when none)
    run_count: int


def last_runs(dag: DagModel, limit: int) -> list[dict]:
    """The newest `limit` runs, oldest first (left to right on the chart)."""
    runs: list[dict[str, Any]] = [
        dict(row)
        for row in DagRun.objects.filter(dag=dag)
        .order_by("-run_after", "-id")
        .values(
            "id",
            "run_id",
            "state",
            "run_after",
            "queued_at",
            "start_date",
            "end_date",
        )[:limit]
    ]
    runs.reverse()
    return runs


def instances_by_run(runs: list[dict]) -> dict[str, dict[str, tuple]]:
    """run_id → task_id → folded instance row (a mapped task's instances fold into one, as
    the gantt shows them): (task_id, count, state, try, queued, start, end, …)."""
    rows: dict[str, list[tuple]] = {}
    found = TaskInstance.objects.filter(dag_run_id__in=[r["id"] for r in runs]).values_list(
        "run_id", *FOLDED_FIELDS
    )
    for run_id, *rest in found:
        rows.setdefault(run_id, []).append(tuple(rest))
    return {
        run_id: {row[0]: row for row in fold_mapped(instance_rows)}
        for run_id, instance_rows in rows.items()
    }


def build_durations(dag: DagModel, limit: int, task_id: str, now: datetime) -> Durations:
    """`task_id`: the task to chart ("" for the first task in the DAG's order). Raises
    LookupError naming the task when the DAG's latest version has no such task."""
    runs = last_runs(dag, limit)
    base = dag_url(dag.dag_id)
    run_spans = [
        Span(
            run_id=r["run_id"],
            when=r["run_after"],
            state=r["state"],
            queued=r["queued_at"],
            start=r["start_date"],
            end=r["end_date"],
            url=run_url(dag.dag_id, r["run_id"], base=base),
        )
        for r in runs
    ]
    # The tasks in the latest version's order; tasks only older runs had come after them.
    latest = dag.latest_version()
    structure = structure_for(
        latest.pk if latest else None, latest.structure_hash if latest else ""
    )
    order = list(structure.order)
    instances = instances_by_run(runs)
    # task → (run, folded row) per run it has an instance in (a row as fold_mapped returns
    # it: task_id, mapped count, state, try, queued, start, end, …); only the charted task's rows
    # become spans with links (a 500-task DAG has 12,500 rows over 25 runs).
    per_task: dict[str, list[tuple[dict[str, Any], tuple]]] = {t: [] for t in order}
    for r in runs:
        for tid, row in instances.get(r["run_id"], {}).items():
            per_task.setdefault(tid, []).append((r, row))
    if task_id and task_id not in per_task:
        raise LookupError(f"task_id: DAG {dag.dag_id} has no task {task_id!r}")
    chosen = task_id or (order[0] if order else "")
    summaries = [
        _summary(tid, structure.tasks.get(tid, {}).get("label") or tid, rows, tid == chosen, now)
        for tid, rows in per_task.items()
    ]
    task_spans = [
        Span(
            run_id=r["run_id"],
            when=r["run_after"],
            state=row[2] or "none",
            queued=row[4],
            start=row[5],
            end=row[6],
            url=ti_url(dag.dag_id, r["run_id"], chosen, base=base),
            label=f"{chosen} ({row[1]} mapped) · {r['run_id']}"
            if row[1]
            else f"{chosen} · {r['run_id']}",
        )
        for r, row in per_task.get(chosen, [])
    ]
    task_chart = build_chart(task_spans, now) if chosen else None
    return Durations(
        run_chart=build_chart(run_spans, now),
        task_chart=task_chart,
        tasks=summaries,
        task_id=chosen,
        run_count=len(runs),
    )


def _summary(
    task_id: str, label: str, rows: list[tuple[dict[str, Any], tuple]], selected: bool, now
) -> TaskSummary:
    """`rows`: (run, folded instance row) oldest first; running time is start to end (to
    now while it runs)."""
    times = [fmt.between(row[5], row[6] or (now if row[5] else None)) for _run, row in rows]
    ran = [t for t in times if t is not None]
    return TaskSummary(
        task_id=task_id,
        label=label,
        runs=len(ran),
        mean=fmt.duration(mean(ran)) if ran else "",
        longest=fmt.duration(max(ran)) if ran else "",
        last=fmt.duration(times[-1]) if times else "",
        last_state=(rows[-1][1][2] or "none") if rows else "",
        selected=selected,
    )
