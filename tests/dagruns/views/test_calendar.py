"""The Calendar tab: a year of days coloured by their runs' states (counts and a glyph, not
colour alone), each day linking to its runs, and the runs the timetable will make shown as
planned — at a constant number of queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from dagruns.domain.schedule_info import schedule_fields
from dagruns.models import DagModel
from dagruns.sdk import DAG
from dagruns.sdk.operators.empty import EmptyOperator
from dagruns.ui.calendar import MAX_PLANNED_RUNS, PLANNED_DAYS, planned_runs
from tests.builders import add_run, store, store_dag
from tests.dagruns.views.query_count import queries_of

pytestmark = pytest.mark.django_db

CAP = 14  # session, user, role groups, the page's own handful (as test_query_counts.py)


def _daily(
    dag_id: str, *, paused: bool = False, schedule: str = "@daily", ahead: timedelta = timedelta()
) -> DagModel:
    """A @daily DAG stored as the processor stores it, its next run set as it sets it
    (`ahead`: as it would set it that much later, so the next run is not yet due)."""
    with DAG(dag_id, schedule=schedule, start_date=datetime(2024, 1, 1), catchup=False) as dag:
        EmptyOperator(task_id="t")
    model = store(dag, paused=paused)
    version = model.latest_version()
    fields = schedule_fields(version.serialized, timezone.now() + ahead, None)
    DagModel.objects.filter(pk=model.pk).update(**fields)
    model.refresh_from_db()
    return model


def test_days_show_their_runs_states_counts_and_link_to_that_days_runs(viewer):
    dag = store_dag("cal")
    day = datetime(2024, 3, 5, 6, tzinfo=UTC)
    add_run(dag, "a", state="success", when=day)
    add_run(dag, "b", state="failed", when=day + timedelta(hours=3))
    add_run(dag, "c", state="success", when=day + timedelta(days=1))
    add_run(dag, "d", state="success", when=datetime(2023, 12, 31, 23, tzinfo=UTC))
    response = viewer.get("/dags/cal/calendar?year=2024")
    body = response.content.decode()
    assert response.status_code == 200
    # A day with a failed run is "failed", its tooltip counting each state.
    assert 'href="/dags/cal/runs?start=2024-03-05&amp;end=2024-03-05"' in body
    assert 'data-date="2024-03-05" data-state="failed"' in body
    assert 'data-tip="2024-03-05\nfailed: 1\nsuccess: 1"' in body
    assert 'data-date="2024-03-06" data-state="success"' in body
    assert 'class="cal-day s-failed"' in body  # the stylesheet's glyph for the state
    # The year holds its 366 days; the run of 2023 is not counted in it.
    assert body.count('class="cal-day out"') + body.count("data-date=") == 53 * 7
    assert body.count('data-date="2024-') == 366 and "2023-12-31" not in body
    assert '<strong data-total="success">2</strong>' in body
    assert '<strong data-total="failed">1</strong>' in body
    assert '<a href="/dags/cal/calendar" aria-current="page">Calendar</a>' in body
    # The day's link lists exactly the runs counted on it.
    runs = viewer.get("/dags/cal/runs?start=2024-03-05&end=2024-03-05").content.decode()
    assert 'data-run-id="a"' in runs and 'data-run-id="b"' in runs
    assert 'data-run-id="c"' not in runs


def test_the_timetable_plans_the_next_days_and_a_paused_dag_plans_none(viewer):
    _daily("planned")
    tomorrow = (timezone.now() + timedelta(days=1)).date()
    body = viewer.get(f"/dags/planned/calendar?year={tomorrow.year}").content.decode()
    assert f'data-date="{tomorrow.isoformat()}" data-state="planned"' in body
    past = tomorrow - timedelta(days=2)
    if past.year == tomorrow.year:
        assert f'data-date="{past.isoformat()}" data-state=""' in body
    beyond = tomorrow + timedelta(days=120)
    if beyond.year == tomorrow.year:
        assert f'data-date="{beyond.isoformat()}" data-state=""' in body
    _daily("asleep", paused=True)
    body = viewer.get(f"/dags/asleep/calendar?year={tomorrow.year}").content.decode()
    assert 'data-state="planned"' not in body
    assert "A paused DAG plans no runs." in body


def test_a_frequent_schedule_plans_a_bounded_number_of_runs_and_says_until_when(viewer):
    dag = _daily("minutely", schedule="* * * * *", ahead=timedelta(minutes=5))
    now = timezone.now()
    assert dag.next_dagrun_create_after > now
    planned = planned_runs(dag, now, now + timedelta(days=PLANNED_DAYS))
    assert planned.capped and sum(planned.days.values()) == MAX_PLANNED_RUNS
    assert planned.last == max(planned.days)
    # Kept for the next view while the DAG's next run has not moved.
    assert planned_runs(dag, now, now + timedelta(days=PLANNED_DAYS)) is planned
    body = viewer.get("/dags/minutely/calendar").content.decode()
    assert f"Planned: the timetable's next {MAX_PLANNED_RUNS} runs, until" in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("year=abc", "year: &#x27;abc&#x27; is not a whole number"),
        ("year=12", "year: 12 is out of range (1970 to 9998)"),
    ],
)
def test_a_bad_year_is_refused_naming_it(viewer, query, message):
    store_dag("cal")
    response = viewer.get(f"/dags/cal/calendar?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_calendar_does_not_grow_with_runs(viewer, django_assert_max_num_queries):
    small, large = _daily("few"), _daily("many")
    add_run(small, state="success", when=datetime(2024, 2, 1, tzinfo=UTC))
    for i in range(60):
        add_run(large, state="success", when=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=i))
    few = queries_of(viewer, "/dags/few/calendar?year=2024")
    assert queries_of(viewer, "/dags/many/calendar?year=2024") == few
    with django_assert_max_num_queries(CAP):
        viewer.get("/dags/many/calendar")
