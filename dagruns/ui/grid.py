"""The grid: one row per task (task groups as collapsible rows), one column per DAG run
(oldest left), each cell coloured by its task instance's state.

Built from a constant number of queries whatever the size: the runs, then every task
instance of those runs in one `values_list`. Cells and rows are rendered here as escaped
strings rather than in a template loop, because a 500-task DAG with 25 runs has 12,500 cells
in 500 rows (`manage.py benchmark ui` measures that page).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import lru_cache

from django.db import connections
from django.db.models import F, Func, QuerySet, TextField
from django.utils import timezone
from django.utils.safestring import mark_safe

from dagruns.actions.mapped import summarize
from dagruns.models import DagModel, DagRun, DagVersion, TaskInstance
from dagruns.models.states import DAGRUN_ACTIVE
from dagruns.ui import format as fmt
from dagruns.ui import grid_labels as labels
from dagruns.ui import keys
from dagruns.ui.structure import Row, Structure, group_state, structure_for
from dagruns.ui.urls import dag_url, run_part, task_part, with_query

DEFAULT_RUNS = 25
MAX_RUNS = 200


@dataclass(slots=True)
class TiCell:
    state: str | None
    try_number: int
    duration: float | None
    # A mapped task: how many instances, and their states (Airflow's grid shows the count
    # and colours the cell by the aggregate of its instances' states). None until a first
    # instance: most cells are not mapped, and a 12,500-cell grid builds one each.
    mapped: int = 0
    mapped_states: list[str | None] | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None

    def add_instance(self, state: str | None, try_number: int) -> None:
        if self.mapped_states is None:
            self.mapped_states = []
        self.mapped += 1
        self.mapped_states.append(state)
        self.state = group_state(self.mapped_states)
        self.try_number = max(self.try_number, try_number)
        self.duration = None

    def summary(self) -> str:
        counts = summarize(self.mapped_states or []).states
        return ", ".join(f"{n} {state}" for state, n in counts.items())


def ti_cells(
    run_pks: list[int], task_ids: list[str] | None = None
) -> dict[tuple[int, str], TiCell]:
    """The cell of every task instance of these runs, a mapped task's instances folded into
    one cell (one query)."""
    rows = TaskInstance.objects.filter(dag_run_id__in=run_pks)
    if task_ids is not None:
        rows = rows.filter(task_id__in=task_ids)
    dates, as_text = _date_columns(rows)
    from_text = datetime.fromisoformat
    cells: dict[tuple[int, str], TiCell] = {}
    for run_pk, task_id, map_index, state, try_number, duration, start, end in rows.values_list(
        "dag_run_id", "task_id", "map_index", "state", "try_number", "duration", *dates
    ):
        key = (run_pk, task_id)
        if map_index < 0:
            # (a -1 row next to expanded ones would be stale: they win)
            if key not in cells:
                if as_text:
                    start = from_text(start) if start is not None else None
                    end = from_text(end) if end is not None else None
                cells[key] = TiCell(state, try_number, duration, 0, None, start, end)
            continue
        found = cells.get(key)
        if found is None or not found.mapped:
            found = cells[key] = TiCell(None, 0, None)
        found.add_instance(state, try_number)
    return cells


def _date_columns(rows: QuerySet[TaskInstance]) -> tuple[tuple[str | Func, str | Func], bool]:
    """The start and end dates to select, and whether they come as ISO text to parse.

    SQLite stores a date as text (`2024-01-01 00:00:03.500000`, naive UTC). Selected as the
    column, each value is parsed twice, by the driver's converter (a regular expression) and by
    Django's (making it aware): most of the time of a 12,500-cell grid. Selected as that text
    with its offset appended (`NULL` stays `NULL`), `datetime.fromisoformat` (C) reads it as
    the same aware moment in a fraction of that. PostgreSQL returns aware datetimes natively,
    and a database set to store local times (DATABASES' TIME_ZONE, which this project never
    sets) needs Django's conversion: the columns as they are."""
    connection = connections[rows.db]
    if connection.vendor != "sqlite" or connection.timezone is not UTC:
        return ("start_date", "end_date"), False
    return (_iso_utc_text("start_date"), _iso_utc_text("end_date")), True


def _iso_utc_text(column: str) -> Func:
    return Func(F(column), template="%(expressions)s || '+00:00'", output_field=TextField())


@dataclass
class GridRun:
    pk: int
    run_id: str
    state: str
    run_type: str
    logical_date: datetime | None
    run_after: datetime
    start_date: datetime | None
    end_date: datetime | None
    duration: float | None
    height: int = 0  # % of the tallest bar

    @property
    def bar_id(self) -> str:
        return keys.run_bar_id(self.pk)

    @property
    def date(self) -> datetime:
        """The date the bar is labelled with: the logical date, or run_after when the run
        has none (Airflow 3's grid does the same)."""
        return self.logical_date or self.run_after

    @property
    def short_date(self) -> str:
        return labels.short_date(self.date)

    @property
    def date_tip(self) -> str:
        return f"{'Logical date' if self.logical_date else 'Run after'}: {fmt.when(self.date)}"

    @property
    def tip(self) -> str:
        return labels.tip(
            [
                ("", self.run_id),
                ("State", self.state),
                ("Type", self.run_type),
                ("Logical date" if self.logical_date else "Run after", fmt.when(self.date)),
                ("Start", fmt.when(self.start_date)),
                ("End", fmt.when(self.end_date)),
                ("Duration", fmt.duration(self.duration)),
            ]
        )

    @property
    def label(self) -> str:
        return f"Run {self.run_id}, {fmt.when(self.date)}: {self.state}"

    @property
    def title(self) -> str:
        parts = [self.run_id, self.state, self.run_type]
        if self.duration is not None:
            parts.append(fmt.duration(self.duration))
        return " · ".join(parts)


@dataclass
class GridRow:
    row: Row
    key: str
    parent_keys: str
    cells: str  # escaped already: drawn into the page by row_html


def row_html(grid_row: GridRow) -> str:
    """One row of the grid (its name, then its cells), escaped once. Built here rather than in
    the template's loop: the loop cost a 500-task grid as much as its 12,500 cells."""
    # The row's key and its parents' are hex digits (keys.key): nothing to escape.
    row, key = grid_row.row, grid_row.key
    kind = "group" if row.is_group else "task"
    parents = f'data-parents="{grid_row.parent_keys}"' if grid_row.parent_keys else ""
    title = _esc(row.id)
    if row.task_type:
        title += f" ({_esc(row.task_type)})"
    if row.tooltip:
        title += f" — {_esc(row.tooltip)}"
    label = _esc(row.label)
    if row.is_group:
        name = (
            f'<button type="button" class="toggle" data-group="{key}" aria-expanded="true" '
            f'aria-label="Collapse {label}">▾</button><span class="glabel">{label}</span>'
        )
    else:
        name = f'<span class="tlabel">{label}</span>'
    # The whitespace is the template's that drew these rows before.
    return (
        f'\n  <div class="grow {kind}" data-row="{key}" {parents}>\n'
        f'    <div class="gname" data-style="--depth: {row.depth}" title="{title}">\n'
        f"      {name}\n"
        f'    </div>\n    <div class="gcells">{grid_row.cells}</div>\n  </div>\n  '
    )


def latest_version(dag_id: str) -> tuple[int, str] | None:
    return (
        DagVersion.objects.filter(dag_id=dag_id)
        .order_by("-version_number")
        .values_list("pk", "structure_hash")
        .first()
    )


def latest_runs(dag_id: str, num_runs: int) -> list[DagRun]:
    """The newest `num_runs` runs, returned oldest first (the grid's left-to-right order)."""
    runs = list(
        DagRun.objects.filter(dag_id=dag_id)
        .order_by("-run_after", "-id")
        .only(
            "pk",
            "run_id",
            "state",
            "run_type",
            "logical_date",
            "run_after",
            "start_date",
            "end_date",
            "dag_id",
        )[:num_runs]
    )
    runs.reverse()
    return runs


def run_duration(run: DagRun, now: datetime) -> float | None:
    if run.start_date is None:
        return None
    return fmt.between(run.start_date, run.end_date or now)


def grid_runs(runs: list[DagRun]) -> list[GridRun]:
    now = timezone.now()
    result = [
        GridRun(
            pk=r.pk,
            run_id=r.run_id,
            state=r.state,
            run_type=r.run_type,
            logical_date=r.logical_date,
            run_after=r.run_after,
            start_date=r.start_date,
            end_date=r.end_date,
            duration=run_duration(r, now),
        )
        for r in runs
    ]
    longest = longest_duration(result) or 1
    for r in result:
        r.height = max(6, round(100 * (r.duration or 0) / longest)) if r.duration else 6
    return result


def longest_duration(runs: list[GridRun]) -> float:
    return max((r.duration or 0 for r in runs), default=0)


def ti_title(state: str | None, try_number: int, duration: float | None) -> str:
    parts = [state or "no status"]
    if try_number:
        parts.append(f"try {try_number}")
    if duration is not None:
        parts.append(fmt.duration(duration))
    return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class CellRun:
    """What a run's cells share, escaped once per run rather than once per cell."""

    pk: int
    attr: str  # the run id, escaped for an attribute
    href: str  # `…/runs/<run>/tasks/`, URL-quoted and escaped

    @classmethod
    def of(cls, pk: int, run_id: str, base: str) -> CellRun:
        return cls(pk, _esc(run_id), _esc(f"{base}runs/{run_part(run_id)}/tasks/"))


@dataclass(frozen=True, slots=True)
class CellTask:
    """What a task's cells share along its row, escaped once per row."""

    task_id: str
    attr: str  # the task id, escaped for an attribute
    key: str  # keys.key(task_id): the opaque part of the cell's DOM id
    href: str  # the task's URL segment, escaped

    @classmethod
    def of(cls, task_id: str) -> CellTask:
        return cls(task_id, _esc(task_id), keys.key(task_id), _esc(task_part(task_id)))


def _esc(text: str) -> str:
    # The stdlib's escape (what Django's wraps): no SafeString or lazy-string handling for each
    # of the grid's 12,500 cells; the joined cells are marked safe once.
    return html.escape(text, quote=True)


@lru_cache(maxsize=64)
def _state_attr(state: str | None) -> str:
    """A state as the cell's class and data-state say it: a handful of values, escaped once."""
    return _esc(state or "none")


def cell_html(
    run: CellRun, task: CellTask, ti: TiCell | None, oob: bool = False, zone: tzinfo | None = None
) -> str:
    """One task-instance cell, as the page and a live update draw it. `oob`: for a live
    update (htmx's out-of-band swap). `zone`: the viewer's, fetched once for the whole grid."""
    raw_state = ti.state if ti else None
    state = _state_attr(raw_state)
    if ti is None:
        tip = _esc(labels.tip([("", task.task_id), ("", "no task instance")]))
    elif ti.mapped:
        tip = _esc(labels.tip([("", task.task_id), ("", f"{ti.mapped} mapped: {ti.summary()}")]))
    else:
        tip = _esc(
            labels.ti_tip(
                task.task_id,
                raw_state,
                ti.try_number,
                ti.start_date,
                ti.end_date,
                ti.duration,
                zone,
            )
        )
    swap = ' hx-swap-oob="true"' if oob else ""
    mapped = ""
    count = ""
    if ti is not None and ti.mapped:
        # The count inside the cell, the states per count in its tooltip, as Airflow's grid.
        mapped = f' mapped" data-mapped="{ti.mapped}'
        count = f"<span>{ti.mapped if ti.mapped < 1000 else '1k+'}</span>"
    # The accessible name says the state (screen readers get no colour).
    spoken = state if raw_state else "no status"
    return (
        f'<a class="cell s-{state}{mapped}" id="c{run.pk}_{task.key}" '
        f'href="{run.href}{task.href}" data-run-id="{run.attr}" '
        f'data-task-id="{task.attr}" data-state="{state}" '
        f'aria-label="{task.attr} in {run.attr}: {spoken}" data-tip="{tip}"{swap}>{count}</a>'
    )


def group_cell_html(
    run_pk: int, run_id_attr: str, group_id: str, state: str | None, oob: bool = False
) -> str:
    tip = _esc(labels.tip([("", f"{group_id} (group)"), ("State", state or "none")]))
    state = _state_attr(state)
    swap = ' hx-swap-oob="true"' if oob else ""
    group_attr = _esc(group_id)
    return (
        f'<span class="cell gcell s-{state}" id="{keys.group_cell_id(run_pk, group_id)}" '
        f'data-run-id="{run_id_attr}" data-group-id="{group_attr}" data-state="{state}" '
        f'role="img" aria-label="{group_attr} in {run_id_attr}: {state}" '
        f'data-tip="{tip}"{swap}></span>'
    )


def _group_state(tis: dict[tuple[int, str], TiCell], run_pk: int, row: Row) -> str | None:
    """A group's state in one run: the aggregate of its task instances' states."""
    found = [tis.get((run_pk, task_id)) for task_id in row.task_ids]
    return group_state([cell.state for cell in found if cell is not None])


def build_grid(dag: DagModel, num_runs: int = DEFAULT_RUNS) -> dict:
    """Everything the grid template needs (3 queries, plus 1 on a structure-cache miss)."""
    base = dag_url(dag.dag_id)
    version = latest_version(dag.dag_id)
    structure: Structure = structure_for(*version) if version else structure_for(None)
    runs = latest_runs(dag.dag_id, num_runs)
    extra_tasks: list[str] = []
    known = set(structure.tasks)
    tis = ti_cells([r.pk for r in runs]) if runs else {}
    for _run_pk, task_id in tis:
        if task_id not in known:
            known.add(task_id)
            extra_tasks.append(task_id)
    gruns = grid_runs(runs)
    zone = fmt.viewer_zone()
    cell_runs = [CellRun.of(r.pk, r.run_id, base) for r in gruns]
    rows_out: list[GridRow] = []
    all_rows = list(structure.rows) + [
        Row("task", t, t, 0, (), (t,), "removed from the DAG") for t in sorted(extra_tasks)
    ]
    for row in all_rows:
        if row.is_group:
            cells = "".join(
                [
                    group_cell_html(run.pk, run.attr, row.id, _group_state(tis, run.pk, row))
                    for run in cell_runs
                ]
            )
            row_key = "g" + keys.key("group:" + row.id)
        else:
            task = CellTask.of(row.id)
            cells = "".join(
                [cell_html(run, task, tis.get((run.pk, row.id)), zone=zone) for run in cell_runs]
            )
            row_key = "t" + keys.key(row.id)
        rows_out.append(
            GridRow(
                row=row,
                key=row_key,
                parent_keys=" ".join("g" + keys.key("group:" + p) for p in row.parents),
                cells=cells,
            )
        )
    return {
        "runs": gruns,
        "duration_ticks": labels.duration_ticks(longest_duration(gruns)),
        "rows": rows_out,
        "rows_html": mark_safe("".join([row_html(r) for r in rows_out])),
        "num_runs": num_runs,
        "active": any(r.state in DAGRUN_ACTIVE for r in gruns),
        "graph_url": dag_url(dag.dag_id, "graph"),
        "with_query": with_query,
    }
