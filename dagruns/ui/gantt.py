"""The gantt chart of one DAG run: a bar per task (queued, then running), every try's CPU time
and peak memory in its tooltip, and the critical path — the chain of tasks that set the run's
end time — highlighted.

The critical path is walked backwards from the task that ended last: at each step, the
upstream task that ended last (it is the one the task waited for) is the previous link.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from dagruns.models import DagRun, TaskInstance, TaskInstanceHistory
from dagruns.models.states import TaskInstanceState
from dagruns.ui import format as fmt
from dagruns.ui import keys
from dagruns.ui.structure import group_state, structure_for


@dataclass
class Try:
    try_number: int
    state: str | None
    queued: datetime | None
    start: datetime | None
    end: datetime | None
    duration: float | None
    cpu_time: float | None
    peak_memory: int | None

    def line(self) -> str:
        parts = [f"try {self.try_number}: {self.state or 'no status'}"]
        if self.duration is not None:
            parts.append(f"ran {fmt.duration(self.duration)}")
        if self.queued and self.start:
            parts.append(f"queued {fmt.duration(fmt.between(self.queued, self.start))}")
        parts.append("CPU " + (fmt.duration(self.cpu_time) if self.cpu_time is not None else "n/a"))
        parts.append(
            "peak memory " + (fmt.size(self.peak_memory) if self.peak_memory is not None else "n/a")
        )
        return ", ".join(parts)


@dataclass
class Bar:
    task_id: str
    label: str
    state: str
    dom_id: str
    tries: list[Try] = field(default_factory=list)
    queued_left: float = 0.0
    queued_width: float = 0.0
    run_left: float = 0.0
    run_width: float = 0.0
    critical: bool = False
    start: datetime | None = None
    end: datetime | None = None

    @property
    def title(self) -> str:
        head = f"{self.task_id} — {self.state}"
        if self.start:
            head += f"\n{fmt.when(self.start)} → {fmt.when(self.end) or 'running'}"
        return "\n".join([head, *(t.line() for t in self.tries)])

    @property
    def has_bar(self) -> bool:
        return self.start is not None or self.queued_width > 0


def critical_path(
    ends: dict[str, tuple[datetime | None, datetime | None]], upstream: dict[str, list[str]]
) -> list[str]:
    """Task ids from the one that ended last back to the first, following, at each step, the
    upstream that finished last before the task started. `ends` maps task → (start, end)."""
    finished: dict[str, tuple[datetime | None, datetime]] = {
        t: (start, end) for t, (start, end) in ends.items() if end is not None
    }
    if not finished:
        return []
    current = max(finished, key=lambda t: finished[t][1])
    path = [current]
    seen = {current}
    while True:
        start = finished[current][0]
        candidates = [
            up
            for up in upstream.get(current, ())
            if up in finished
            and up not in seen
            and (start is None or finished[up][1] <= start + _SLACK)
        ]
        if not candidates:
            return path
        current = max(candidates, key=lambda t: finished[t][1])
        seen.add(current)
        path.append(current)


_SLACK = timedelta(seconds=1)  # clocks of workers and API server differ a little


# What fold_mapped reads from each task instance row, in its order.
FOLDED_FIELDS = (
    "task_id",
    "map_index",
    "state",
    "try_number",
    "queued_dttm",
    "start_date",
    "end_date",
    "duration",
    "cpu_time",
    "peak_memory",
)


def fold_mapped(rows) -> list[tuple]:
    """One row per task: a mapped task's instances become one bar from the first instance's
    queue/start to the last one's end (open while any is unfinished), coloured by the grid's
    aggregate state, as Airflow's gantt draws a mapped task. Each row comes back as
    (task_id, instance count, state, try_number, queued, start, end, duration, cpu, mem)."""
    plain: dict[str, tuple] = {}
    mapped: dict[str, list[tuple]] = {}
    for task_id, map_index, *rest in rows:
        if map_index >= 0:
            mapped.setdefault(task_id, []).append(tuple(rest))
        else:
            plain[task_id] = (task_id, 0, *rest)
    for task_id, instances in mapped.items():
        states = [i[0] for i in instances]
        queued = [i[2] for i in instances if i[2] is not None]
        starts = [i[3] for i in instances if i[3] is not None]
        ends = [i[4] for i in instances]
        end = None if any(e is None for e in ends) or not ends else max(ends)
        plain[task_id] = (
            task_id,
            len(instances),
            group_state(states),
            max(i[1] for i in instances),
            min(queued) if queued else None,
            min(starts) if starts else None,
            end if starts else None,
            None,
            None,
            None,
        )
    return list(plain.values())


def build_gantt(run: DagRun) -> dict:
    """3 queries (task instances, history, and the version's structure on a cache miss)."""
    structure = structure_for(run.dag_version_id, str(run.dag_version_id))
    live = fold_mapped(TaskInstance.objects.filter(dag_run=run).values_list(*FOLDED_FIELDS))
    history: dict[str, list[Try]] = {}
    for row in TaskInstanceHistory.objects.filter(dag_id=run.dag_id, run_id=run.run_id).values_list(
        "task_id",
        "try_number",
        "state",
        "queued_dttm",
        "start_date",
        "end_date",
        "duration",
        "cpu_time",
        "peak_memory",
    ):
        history.setdefault(row[0], []).append(Try(*row[1:]))
    now = timezone.now()
    bars: dict[str, Bar] = {}
    order = {t: i for i, t in enumerate(structure.order)}
    for task_id, mapped, state, try_number, queued, start, end, duration, cpu, mem in live:
        tries = sorted(history.get(task_id, []), key=lambda t: t.try_number)
        if try_number and not any(t.try_number == try_number for t in tries):
            tries.append(Try(try_number, state, queued, start, end, duration, cpu, mem))
        task = structure.tasks.get(task_id, {})
        label = task.get("label") or task_id
        bars[task_id] = Bar(
            task_id=task_id,
            label=f"{label} [{mapped}]" if mapped else label,
            state=state or "none",
            dom_id="b" + keys.cell_id(run.pk, task_id),
            # A mapped task's tries are its instances' own: its bar spans them all instead.
            tries=[] if mapped else tries,
            start=start,
            end=end,
        )
        bars[task_id]._queued = queued  # type: ignore[attr-defined]
    times = [
        t
        for b in bars.values()
        for t in (getattr(b, "_queued", None), b.start, b.end)
        if t is not None
    ]
    if run.start_date:
        times.append(run.start_date)
    t0 = min(times) if times else now
    t1 = max([*times, now if run.end_date is None and times else t0])
    if run.end_date:
        t1 = max(t1, run.end_date)
    span = max((t1 - t0).total_seconds(), 0.001)

    def pct(moment: datetime) -> float:
        return round(100 * (moment - t0).total_seconds() / span, 3)

    for bar in bars.values():
        queued = getattr(bar, "_queued", None)
        if queued and (bar.start or bar.state == TaskInstanceState.QUEUED):
            q_end = bar.start or now
            bar.queued_left = pct(queued)
            bar.queued_width = max(pct(q_end) - bar.queued_left, 0.0)
        if bar.start:
            bar.run_left = pct(bar.start)
            bar.run_width = max(pct(bar.end or now) - bar.run_left, 0.3)
    upstream = {t: list(spec.get("upstream_task_ids") or ()) for t, spec in structure.tasks.items()}
    path = critical_path({t: (b.start, b.end) for t, b in bars.items()}, upstream)
    for task_id in path:
        bars[task_id].critical = True
    ordered = sorted(bars.values(), key=lambda b: (order.get(b.task_id, len(order)), b.task_id))
    ticks = [
        {"left": round(100 * i / 4, 3), "label": "+" + fmt.duration(span * i / 4)} for i in range(5)
    ]
    return {
        "bars": ordered,
        "critical_path": list(reversed(path)),
        "start": t0,
        "end": t1,
        "span": span,
        "ticks": ticks,
    }
