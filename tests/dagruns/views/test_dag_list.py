"""The DAG list: filters (last run state, paused/active, tags any/all, favourites, search),
server-side sorting kept in the URL, stars per user, last runs with dates and durations, the
next run's zone and the import-error flag — and a constant number of queries for all of it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dagruns.models import AuditEvent, DagFavorite, DagImportError, DagModel
from tests.builders import T0, add_run, now, store_dag
from tests.personas import PERSONAS

pytestmark = pytest.mark.django_db


def _listed(client, **params) -> list[str]:
    response = client.get("/", params)
    assert response.status_code == 200, response.content
    return re.findall(r'<tr data-dag-id="([^"]+)"', response.content.decode())


@pytest.fixture
def dags():
    """`flaky`: failed after a success; `healed`: success after a failure; `busy`: running;
    `idle`: never ran and paused."""
    flaky = store_dag("flaky", tags=["team-a", "nightly"])
    add_run(flaky, state="success", when=T0)
    add_run(flaky, state="failed", when=T0 + timedelta(days=1))
    healed = store_dag("healed", tags=["team-a"])
    add_run(healed, state="failed", when=T0)
    add_run(healed, state="success", when=T0 + timedelta(days=2))
    busy = store_dag("busy", tags=["nightly"])
    add_run(busy, state="running", when=T0 + timedelta(days=3))
    store_dag("idle", paused=True)
    DagModel.objects.filter(dag_id="healed").update(next_dagrun_create_after=T0)
    DagModel.objects.filter(dag_id="busy").update(next_dagrun_create_after=T0 + timedelta(1))


def test_the_last_run_state_filter_looks_at_each_dags_latest_run_only(viewer, dags):
    assert _listed(viewer, last_dag_run_state="failed") == ["flaky"]
    assert _listed(viewer, last_dag_run_state="success") == ["healed"]
    assert _listed(viewer, last_dag_run_state="running") == ["busy"]
    assert _listed(viewer) == ["busy", "flaky", "healed", "idle"]


def test_paused_and_active_filters(viewer, dags):
    assert _listed(viewer, status="paused") == ["idle"]
    assert _listed(viewer, status="active") == ["busy", "flaky", "healed"]


def test_several_tags_match_any_by_default_or_all_when_asked(viewer, dags):
    both = {"tags": ["team-a", "nightly"]}
    assert _listed(viewer, **both) == ["busy", "flaky", "healed"]
    assert _listed(viewer, **both, tags_match_mode="all") == ["flaky"]
    # The list's older single-tag links still work.
    assert _listed(viewer, tag="nightly") == ["busy", "flaky"]


def test_search_matches_id_display_name_and_description(viewer, dags):
    DagModel.objects.filter(dag_id="idle").update(description="loads the Warehouse")
    assert _listed(viewer, q="warehouse") == ["idle"]
    assert _listed(viewer, q="HEAL") == ["healed"]


def test_sorting_is_server_side_and_every_link_keeps_it(viewer, dags):
    assert _listed(viewer, sort="-dag_id") == ["idle", "healed", "flaky", "busy"]
    # Next run: earliest first, DAGs without one last in either direction.
    assert _listed(viewer, sort="next_dagrun") == ["healed", "busy", "flaky", "idle"]
    assert _listed(viewer, sort="-next_dagrun") == ["busy", "healed", "flaky", "idle"]
    assert _listed(viewer, sort="-last_run_start_date") == ["busy", "healed", "flaky", "idle"]
    html = viewer.get("/", {"sort": "-last_run_start_date", "tags": "nightly"}).content.decode()
    # The header of the current sort flips it, keeping the filter; the select shows it.
    assert 'href="?tags=nightly&amp;sort=last_run_start_date"' in html
    assert 'aria-sort="descending"' in html
    assert '<option value="-last_run_start_date" selected>' in html


def test_sorting_keeps_through_pages(viewer, dags, monkeypatch):
    monkeypatch.setattr("dagruns.views.dags.PAGE_SIZE", 2)
    first = viewer.get("/", {"sort": "-dag_id"}).content.decode()
    assert 'href="?sort=-dag_id&amp;page=2"' in first
    assert _listed(viewer, sort="-dag_id", page=2) == ["flaky", "busy"]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"sort": "owner"}, "sort must be one of"),
        ({"last_dag_run_state": "exploded"}, "last_dag_run_state must be one of"),
        ({"status": "sleeping"}, "status must be one of"),
        ({"tags_match_mode": "some"}, "tags_match_mode must be one of any, all"),
        ({"favorite": "yes"}, "favorite must be true or false"),
    ],
)
def test_a_parameter_the_list_cannot_apply_is_refused_naming_it(viewer, dags, params, named):
    response = viewer.get("/", params)
    assert response.status_code == 400
    assert named in response.content.decode()


def test_stars_are_per_user_and_filter_the_list(viewer, user, dags):
    response = viewer.post("/dags/busy/favorite", {"favorite": "true"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'aria-pressed="true"' in response.content.decode()
    viewer.post("/dags/idle/favorite", {"favorite": "true"})
    viewer.post("/dags/idle/favorite", {"favorite": "true"})  # twice: still one star
    assert DagFavorite.objects.filter(dag_id="idle").count() == 1
    assert _listed(viewer, favorite="true") == ["busy", "idle"]
    assert _listed(user, favorite="true") == []
    viewer.post("/dags/idle/favorite", {"favorite": "false"})
    assert _listed(viewer, favorite="true") == ["busy"]
    events = list(AuditEvent.objects.filter(dag_id="idle").values_list("event", flat=True))
    assert sorted(events) == ["favorite_dag", "unfavorite_dag"]
    html = viewer.get("/").content.decode()
    assert re.search(r'<tr data-dag-id="busy" data-favorite="true">', html)


def test_starring_needs_a_post_and_a_true_or_false(viewer, dags):
    assert viewer.get("/dags/busy/favorite").status_code == 405
    response = viewer.post("/dags/busy/favorite", {"favorite": "maybe"})
    assert response.status_code == 400
    assert "favorite must be true or false" in response.content.decode()
    assert viewer.post("/dags/nope/favorite", {"favorite": "true"}).status_code == 404


def test_last_runs_say_their_state_dates_and_duration_not_by_colour_alone(viewer, dags):
    html = viewer.get("/", {"q": "flaky"}).content.decode()
    bars = re.findall(
        r'<span role="listitem" class="recent-run-slot"><a class="recent-run s-(\w+)"[^>]*'
        r'aria-label="([^"]*)"',
        html,
    )
    assert [state for state, _ in bars] == ["success", "failed"]  # oldest first
    label = bars[1][1]
    assert "State: failed" in label
    assert "Start: 2024-01-02 00:00:00 UTC" in label
    assert "Duration: 5 min 00 s" in label
    assert 'failed</span> <time datetime="2024-01-02T00:00:00Z"' in html
    assert "2024-01-02 00:00:00 UTC</time> · 5 min 00 s" in html


def test_a_running_run_counts_its_duration_so_far(viewer, dags):
    html = viewer.get("/", {"q": "busy"}).content.decode()
    assert "so far" in html


def test_next_run_shows_its_zone_and_the_dags_own_timezone(viewer, dags):
    version = DagModel.objects.get(dag_id="healed").latest_version()
    version.serialized["timezone"] = "Europe/Amsterdam"
    version.save()
    html = viewer.get("/", {"q": "healed"}).content.decode()
    assert ">2024-01-01 00:00:00 UTC</time>" in html
    assert "In Europe/Amsterdam: 2024-01-01 01:00:00 CET" in html
    # In the DAG's own zone, the tooltip has no second line for it.
    viewer.cookies["orch_timezone"] = "Europe/Amsterdam"
    html = viewer.get("/", {"q": "healed"}).content.decode()
    assert ">2024-01-01 01:00:00 CET</time>" in html
    assert "In Europe/Amsterdam" not in html


def test_a_dag_whose_file_fails_to_import_is_flagged_with_a_link_to_the_error(viewer, dags):
    DagModel.objects.filter(dag_id="flaky").update(has_import_errors=True)
    DagImportError.objects.create(
        filename="/dags/flaky.py", message="SyntaxError: oops", stack_trace="...", timestamp=now()
    )
    DagImportError.objects.create(
        filename="/dags/other.py", message="NameError", stack_trace="...", timestamp=now()
    )
    html = viewer.get("/").content.decode()
    assert html.count("data-import-error=") == 1
    assert 'href="/import-errors/?filename=/dags/flaky.py"' in html
    page = viewer.get("/import-errors/", {"filename": "/dags/flaky.py"}).content.decode()
    assert "SyntaxError: oops" in page
    assert "NameError" not in page


def test_the_list_with_every_filter_and_sort_costs_constant_queries(viewer, dags):
    """Whatever the number of DAGs and runs, with favourites, tags, state and sort in use."""
    query = {
        "tags": ["team-a", "nightly"],
        "sort": "-last_run_start_date",
        "status": "active",
        "favorite": "true",
        "q": "a",
    }

    def count() -> int:
        viewer.get("/", query)
        with CaptureQueriesContext(connection) as ctx:
            assert viewer.get("/", query).status_code == 200
        return len(ctx.captured_queries)

    viewer_user = User.objects.get(username=PERSONAS["viewer"][0])
    DagFavorite.objects.create(user=viewer_user, dag_id="flaky")
    few = count()
    for i in range(15):
        dag = store_dag(f"extra_{i:02d}", tags=["team-a"])
        for day in range(12):
            add_run(dag, state="success", when=T0 + timedelta(days=day))
        DagFavorite.objects.create(user=viewer_user, dag=dag)
    assert len(_listed(viewer, **query)) == 16
    assert count() == few


def test_the_filter_form_pushes_the_short_form_of_its_query(viewer, dags):
    form = {"q": "fl", "status": "all", "tags_match_mode": "any", "sort": "dag_id", "tags": ""}
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "dag-list"}
    response = viewer.get("/", form, HTTP_HX_TRIGGER="dag-filters", **headers)
    assert response["HX-Push-Url"] == "/?q=fl"
    assert response.content.decode().startswith('<section id="dag-list"')
    refresh = viewer.get("/?q=fl", **headers)  # a live refresh leaves the address alone
    assert "HX-Push-Url" not in refresh
