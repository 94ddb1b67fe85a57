"""The backfill form on the DAG page: the review lists every date and what will happen to it
before anything starts (htmx, in the modal), confirming creates the backfill through the same
action as the CLI and REST API, and the backfills tab shows its progress, refreshed live."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dagruns.actions.audit import Actor
from dagruns.actions.backfills import BackfillRequest, do_create_backfill, do_make_backfill_runs
from dagruns.models import AuditEvent, Backfill, DagRun
from dagruns.sdk import DAG, EmptyOperator
from tests.builders import START, store

pytestmark = pytest.mark.django_db
FORM = {
    "from_date": "2024-01-01T00:00",
    "to_date": "2024-01-03T00:00",
    "reprocess_behavior": "failed",
    "max_active_runs": "2",
}
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "modal-body"}


@pytest.fixture
def etl(db):
    with DAG("etl", schedule="@daily", start_date=START, catchup=False) as dag:
        EmptyOperator(task_id="a")
    return store(dag)


def test_the_dag_page_offers_the_backfill_form_to_users_only(user, viewer, etl):
    assert 'data-action="backfill"' in user.get("/dags/etl/runs").content.decode()
    assert 'data-action="backfill"' not in viewer.get("/dags/etl/runs").content.decode()
    form = user.get("/dags/etl/backfill", **HTMX).content.decode()
    for name in ("from_date", "to_date", "reprocess_behavior", "max_active_runs", "run_backwards"):
        assert f'name="{name}"' in form
    assert viewer.get("/dags/etl/backfill").status_code == 403


def test_review_lists_the_dates_and_outcomes_and_creates_nothing(user, etl):
    DagRun.objects.create(
        dag=etl, run_id="old", run_type="scheduled", state="failed",
        logical_date=datetime(2024, 1, 2, tzinfo=UTC), run_after=datetime(2024, 1, 2, tzinfo=UTC),
        dag_version=etl.latest_version(),
    )  # fmt: skip
    html = user.post("/dags/etl/backfill", FORM, **HTMX).content.decode()
    assert 'data-outcome="create"' in html and 'data-outcome="clear"' in html
    assert html.count("data-logical-date=") == 3 and 'data-will-run="3"' in html
    assert 'name="confirm" value="1"' in html
    assert not Backfill.objects.exists()


def test_confirming_creates_the_backfill_and_goes_to_its_progress(user, etl):
    answer = user.post("/dags/etl/backfill", {**FORM, "confirm": "1"}, **HTMX)
    backfill = Backfill.objects.get()
    assert answer["HX-Redirect"] == "/dags/etl/backfills"
    assert (backfill.reprocess_behavior, backfill.max_active_runs) == ("failed", 2)
    assert AuditEvent.objects.filter(event="backfill").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"from_date": "yesterday"}, "Enter a date and time"),
        ({"max_active_runs": "0"}, "Enter a whole number of at least 1."),
        ({"conf": "[1]"}, "JSON object"),
        ({"from_date": "2024-02-01T00:00"}, "must not be after to_date"),
    ],
)
def test_bad_input_is_shown_on_the_form(user, etl, change, message):
    html = user.post("/dags/etl/backfill", {**FORM, **change}, **HTMX).content.decode()
    assert message in html and "data-backfill-form" in html
    assert not Backfill.objects.exists()


def test_a_dag_without_a_schedule_is_refused_on_the_form(user):
    with DAG("manual", schedule=None, start_date=START) as dag:
        EmptyOperator(task_id="a")
    store(dag)
    html = user.post("/dags/manual/backfill", FORM, **HTMX).content.decode()
    assert "non-periodic schedule" in html


def test_the_backfills_tab_shows_progress_and_refreshes_live(user, etl):
    b = do_create_backfill(
        BackfillRequest("etl", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 4, tzinfo=UTC),
                        max_active_runs=2),
        Actor(name="t"),
    )  # fmt: skip
    do_make_backfill_runs(b.pk, datetime.now(UTC))
    DagRun.objects.filter(logical_date=datetime(2024, 1, 1, tzinfo=UTC)).update(state="success")
    page = user.get("/dags/etl/backfills").content.decode()
    assert 'data-live="backfill"' in page and 'data-active="1"' in page
    assert 'data-counts="4 1 0 1 2 0"' in page
    region = user.get(
        "/dags/etl/backfills", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="backfill"
    ).content.decode()
    assert region.startswith('<section id="backfill"') and 'data-state="success"' in region


def test_pause_unpause_and_cancel_from_the_tab(user, viewer, etl):
    b = do_create_backfill(
        BackfillRequest("etl", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)),
        Actor(name="t"),
    )
    assert viewer.post(f"/dags/etl/backfills/{b.pk}/pause").status_code == 403
    user.post(f"/dags/etl/backfills/{b.pk}/pause")
    assert Backfill.objects.get().is_paused
    user.post(f"/dags/etl/backfills/{b.pk}/unpause")
    assert not Backfill.objects.get().is_paused
    user.post(f"/dags/etl/backfills/{b.pk}/cancel")
    assert Backfill.objects.get().completed_at is not None
    assert user.post(f"/dags/etl/backfills/{b.pk}/explode").status_code == 404
    assert user.get("/dags/etl/backfills?backfill=999").status_code == 404


def test_the_tab_reads_a_bounded_number_of_queries_for_thousands_of_dates(
    user, etl, django_assert_max_num_queries
):
    b = do_create_backfill(
        BackfillRequest("etl", datetime(2020, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)),
        Actor(name="t"),
    )
    do_make_backfill_runs(b.pk, datetime.now(UTC))
    with django_assert_max_num_queries(20):
        page = user.get("/dags/etl/backfills").content.decode()
    assert page.count("<tr data-logical-date=") == 50 and "Page 1 of 30" in page
