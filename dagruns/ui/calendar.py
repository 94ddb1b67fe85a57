"""A DAG's calendar (Airflow's calendar view): one year of days, weeks as columns, each day
coloured by its runs' states with the counts in its tooltip and a glyph for the state, and the
runs the timetable will make in the next PLANNED_DAYS days shown as "planned".

Days are UTC days of `run_after` (when a run was due; it is never empty, while a manual run
may have no logical date in Airflow 3), so a day's link to the runs list (filtered by the same
date) lists exactly the runs counted. Planned runs come from the scheduler's own next-run
computation (`next_dagrun_fields`), starting where the scheduler will start: the DAG's stored
next run. One query for the year's runs, one for the DAG's latest version when it plans.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate

from dagruns.domain.schedule_info import ScheduleError, next_dagrun_fields
from dagruns.domain.timetables import DataInterval
from dagruns.models import DagModel, DagRun
from dagruns.models.states import DagRunState
from dagruns.ui.grid_labels import tip
from dagruns.ui.urls import dag_url, with_query

PLANNED = "planned"
PLANNED_DAYS = 90
# Airflow's calendar stops planning after 2000 runs (CalendarService.MAX_PLANNED_RUNS): an
# every-minute schedule must not cost a page 130,000 timetable steps.
MAX_PLANNED_RUNS = 2000
# The state a day shows when its runs differ: the one needing attention first.
PRIORITY = (
    DagRunState.FAILED,
    DagRunState.RUNNING,
    DagRunState.QUEUED,
    DagRunState.SUCCESS,
    PLANNED,
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "", "Wed", "", "Fri", "", "Sun")


@dataclass
class Day:
    day: date
    in_year: bool
    counts: Counter = field(default_factory=Counter)
    url: str = ""

    @property
    def state(self) -> str:
        for state in PRIORITY:
            if self.counts.get(state):
                return str(state)
        return ""

    @property
    def total(self) -> int:
        return sum(n for s, n in self.counts.items() if s != PLANNED)

    @property
    def title(self) -> str:
        lines = [("", self.day.isoformat())]
        lines += [(str(s), str(self.counts[s])) for s in PRIORITY if self.counts.get(s)]
        lines += [(s, str(n)) for s, n in sorted(self.counts.items()) if s not in PRIORITY]
        if not self.counts:
            lines.append(("", "no runs"))
        return tip(lines)


@dataclass(frozen=True)
class MonthLabel:
    name: str
    column: int  # the week (1-based, a CSS grid column) holding the month's first day


@dataclass(frozen=True)
class Calendar:
    year: int
    weeks: list[list[Day]]
    months: list[MonthLabel]
    totals: list[tuple[str, int]]  # (state, runs) over the year, planned included
    planned_until: date | None  # the last day planning looked at (None: the DAG plans none)
    planning_error: str = ""
    weekdays: tuple[str, ...] = WEEKDAYS


def run_counts(dag: DagModel, year: int) -> dict[date, Counter]:
    """date → state → runs, for the year's runs (one grouped query)."""
    start = datetime(year, 1, 1, tzinfo=UTC)
    rows = (
        DagRun.objects.filter(
            dag=dag, run_after__gte=start, run_after__lt=start.replace(year=year + 1)
        )
        .annotate(day=TruncDate("run_after", tzinfo=UTC))
        .values_list("day", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[date, Counter] = {}
    for day, state, n in rows:
        counts.setdefault(day, Counter())[state] += n
    return counts


def planned_runs(dag: DagModel, now: datetime, until: datetime) -> Counter:
    """day → runs the timetable will make from `now` to `until`, walking from the DAG's
    stored next run with the scheduler's `next_dagrun_fields`. Nothing for a paused DAG or one
    without a time-based next run. ScheduleError when the timetable raises."""
    planned: Counter = Counter()
    if dag.is_paused or dag.next_dagrun_create_after is None:
        return planned
    start, end = dag.next_dagrun_data_interval_start, dag.next_dagrun_data_interval_end
    run_after = dag.next_dagrun_create_after
    version = dag.latest_version()
    if version is None or start is None or end is None:
        return planned
    for _step in range(MAX_PLANNED_RUNS):
        if run_after > until:
            break
        if run_after >= now:
            planned[run_after.astimezone(UTC).date()] += 1
        fields = next_dagrun_fields(version.serialized, now, DataInterval(start, end))
        following = fields["next_dagrun_create_after"]
        if following is None or following <= run_after:
            break  # the timetable ends (end_date) or does not move forward
        start = fields["next_dagrun_data_interval_start"]
        end = fields["next_dagrun_data_interval_end"]
        run_after = following
        if start is None or end is None:
            break
    return planned


def build_calendar(dag: DagModel, year: int, now: datetime) -> Calendar:
    counts = run_counts(dag, year)
    until = datetime.combine(now.date() + timedelta(days=PLANNED_DAYS), time.max, UTC)
    error = ""
    planned: Counter = Counter()
    try:
        planned = planned_runs(dag, now, until)
    except ScheduleError as exc:
        error = str(exc)
    for day, n in planned.items():
        if day.year == year:
            counts.setdefault(day, Counter())[PLANNED] += n
    runs_url = dag_url(dag.dag_id, "runs")
    first = date(year, 1, 1)
    cursor = first - timedelta(days=first.weekday())  # the Monday of the week of 1 January
    weeks: list[list[Day]] = []
    months: list[MonthLabel] = []
    while cursor.year <= year:
        week = []
        for _ in range(7):
            found = counts.get(cursor, Counter())
            in_year = cursor.year == year
            url = ""
            if in_year and any(s != PLANNED for s in found):
                url = with_query(runs_url, start=cursor.isoformat(), end=cursor.isoformat())
            week.append(Day(cursor, in_year, found if in_year else Counter(), url))
            if in_year and cursor.day == 1:
                months.append(MonthLabel(MONTHS[cursor.month - 1], len(weeks) + 1))
            cursor += timedelta(days=1)
        weeks.append(week)
    totals: Counter = Counter()
    for day, found in counts.items():
        if day.year == year:
            totals.update(found)
    ordered = [(str(s), totals[s]) for s in PRIORITY if totals.get(s)]
    ordered += [(s, n) for s, n in sorted(totals.items()) if s not in PRIORITY]
    planning = not dag.is_paused and dag.next_dagrun_create_after is not None
    return Calendar(
        year=year,
        weeks=weeks,
        months=months,
        totals=ordered,
        planned_until=until.date() if planning else None,
        planning_error=error,
    )
