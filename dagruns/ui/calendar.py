"""A DAG's calendar (Airflow's calendar view): one year of days, weeks as columns, each day
coloured by its runs' states with the counts in its tooltip and a glyph for the state, and the
runs the timetable will make in the next PLANNED_DAYS days shown as "planned".

Days are days of `run_after` in the viewer's timezone (when a run was due; it is never empty,
while a manual run may have no logical date in Airflow 3), so a day's link to the runs list (filtered by the same
date) lists exactly the runs counted. Planned runs come from the scheduler's own next-run
computation (`next_dagrun_fields`), starting where the scheduler will start: the DAG's stored
next run. One query for the year's runs, one for the DAG's latest version when it plans.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.db.models import Count
from django.db.models.functions import TruncDate

from dagruns.domain.schedule_info import ScheduleError, next_dagrun_fields, timetable_for
from dagruns.domain.timetables import DataInterval
from dagruns.models import DagModel, DagRun, DagVersion
from dagruns.models.states import DagRunState
from dagruns.ui.grid_labels import tip
from dagruns.ui.timezones import zone_name
from dagruns.ui.urls import dag_url, with_query

PLANNED = "planned"
PLANNED_DAYS = 90
# Airflow's calendar stops planning after 2000 runs (CalendarService.MAX_PLANNED_RUNS); a step
# of our timetables costs a few milliseconds, so a page stops at 400 (a daily DAG's 90 days,
# an hourly one's 16) and says until when it planned.
MAX_PLANNED_RUNS = 400
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
    planned_until: date | None  # the last day planned (None: the DAG plans nothing)
    planned_capped: bool = False  # MAX_PLANNED_RUNS reached before PLANNED_DAYS
    planning_error: str = ""
    weekdays: tuple[str, ...] = WEEKDAYS


def run_counts(dag: DagModel, year: int, zone: tzinfo = UTC) -> dict[date, Counter]:
    """date → state → runs, for the year's runs (one grouped query); days in `zone`."""
    start = datetime(year, 1, 1, tzinfo=zone)
    rows = (
        DagRun.objects.filter(
            dag=dag, run_after__gte=start, run_after__lt=start.replace(year=year + 1)
        )
        .annotate(day=TruncDate("run_after", tzinfo=zone))
        .values_list("day", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[date, Counter] = {}
    for day, state, n in rows:
        counts.setdefault(day, Counter())[state] += n
    return counts


@dataclass(frozen=True)
class Planned:
    days: Counter  # date → planned runs
    last: date | None  # the last day planned (before `until` when the cap was reached)
    capped: bool


_PLANNED_CACHE: OrderedDict[tuple, Planned] = OrderedDict()
_PLANNED_CACHE_SIZE = 128


def planned_runs(dag: DagModel, now: datetime, until: datetime, zone: tzinfo = UTC) -> Planned:
    """The runs the timetable will make from `now` to `until` (at most MAX_PLANNED_RUNS),
    walking from the DAG's stored next run with the scheduler's `next_dagrun_fields`. Nothing
    for a paused DAG or one without a time-based next run. ScheduleError when the timetable
    raises.

    A walk costs a few milliseconds a step, and a live page asks again at every run event:
    the result is kept per (DAG, version, next run, last day), which is everything it depends
    on while the next run is ahead — the scheduler moving the DAG's next run, or a new
    version, is a new key."""
    nothing = Planned(Counter(), None, capped=False)
    start, end = dag.next_dagrun_data_interval_start, dag.next_dagrun_data_interval_end
    run_after = dag.next_dagrun_create_after
    if dag.is_paused or run_after is None or start is None or end is None:
        return nothing
    version_id = (
        DagVersion.objects.filter(dag=dag)
        .order_by("-version_number")
        .values_list("pk", flat=True)
        .first()
    )
    if version_id is None:
        return nothing
    key = (dag.dag_id, version_id, run_after, start, end, until.date(), zone_name(zone))
    found = _PLANNED_CACHE.get(key)
    if found is not None:
        _PLANNED_CACHE.move_to_end(key)
        return found
    serialized = DagVersion.objects.values_list("serialized", flat=True).get(pk=version_id)
    found = _walk(serialized, now, until, run_after, DataInterval(start, end), zone)
    if run_after >= now:  # a next run already due: what counts as planned moves with now
        _PLANNED_CACHE[key] = found
        while len(_PLANNED_CACHE) > _PLANNED_CACHE_SIZE:
            _PLANNED_CACHE.popitem(last=False)
    return found


def _walk(
    serialized: dict,
    now: datetime,
    until: datetime,
    run_after: datetime,
    interval: DataInterval,
    zone: tzinfo = UTC,
) -> Planned:
    planned: Counter = Counter()
    timetable = timetable_for(serialized)
    for _step in range(MAX_PLANNED_RUNS):
        if run_after > until:
            return Planned(planned, until.date(), capped=False)
        if run_after >= now:
            planned[run_after.astimezone(zone).date()] += 1
        fields = next_dagrun_fields(serialized, now, interval, timetable)
        following = fields["next_dagrun_create_after"]
        start, end = (
            fields["next_dagrun_data_interval_start"],
            fields["next_dagrun_data_interval_end"],
        )
        if following is None or following <= run_after or start is None or end is None:
            # The timetable ends (end_date) or does not move forward.
            return Planned(planned, until.date(), capped=False)
        run_after, interval = following, DataInterval(start, end)
    return Planned(planned, max(planned) if planned else None, capped=True)


def clear_cache() -> None:
    _PLANNED_CACHE.clear()


def build_calendar(dag: DagModel, year: int, now: datetime, zone: tzinfo = UTC) -> Calendar:
    """The year's days in `zone` (the viewer's)."""
    counts = run_counts(dag, year, zone)
    today = now.astimezone(zone).date()
    until = datetime.combine(today + timedelta(days=PLANNED_DAYS), time.max, zone)
    error = ""
    planned = Planned(Counter(), None, capped=False)
    try:
        planned = planned_runs(dag, now, until, zone)
    except ScheduleError as exc:
        error = str(exc)
    for day, n in planned.days.items():
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
    return Calendar(
        year=year,
        weeks=weeks,
        months=months,
        totals=ordered,
        planned_until=planned.last,
        planned_capped=planned.capped,
        planning_error=error,
    )
