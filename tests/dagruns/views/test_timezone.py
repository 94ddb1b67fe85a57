"""The viewer's timezone: chosen in the header, kept in a cookie, applied to every date of
every page (the admin's too) in one format; a bad zone never breaks a page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.messages import get_messages

from dagruns.models import AuditEvent, TaskInstance
from tests.builders import add_run, store_dag
from tests.dagruns.views.query_count import queries_of

pytestmark = pytest.mark.django_db
# 2024-01-01 00:00 UTC, the builders' first run: already 2 January in Tokyo.
RUN_PAGE = "/dags/etl/runs/scheduled__2024-01-01T00:00:00+00:00"


@pytest.fixture
def etl():
    dag = store_dag("etl", {"extract": ["load"], "load": []})
    add_run(dag, states={"extract": "success", "load": "failed"}, state="failed")
    return dag


def test_without_a_choice_dates_are_in_utc_with_their_zone_on_hover(viewer, etl):
    html = viewer.get(RUN_PAGE).content.decode()
    assert (
        '<time datetime="2024-01-01T00:00:00Z" title="Monday 2024-01-01 00:00:00 UTC '
        '(UTC+00:00, UTC)">2024-01-01 00:00:00 UTC</time>'
    ) in html
    assert 'aria-label="Timezone: UTC"' in html


def test_the_chosen_zone_is_applied_to_the_run_page_and_the_grid(viewer, etl):
    viewer.cookies["orch_timezone"] = "Asia/Tokyo"
    html = viewer.get(RUN_PAGE).content.decode()
    assert ">2024-01-01 09:00:00 JST</time>" in html
    assert "(UTC+09:00, Asia/Tokyo) · 2024-01-01 00:00:00 UTC" in html
    assert "00:00:00 UTC</time>" not in html
    assert 'aria-label="Timezone: Asia/Tokyo"' in html
    grid = viewer.get("/dags/etl/").content.decode()
    assert "Start: 2024-01-01 09:00:00 JST" in grid  # a cell's tooltip
    assert 'data-run-id="scheduled__2024-01-01T00:00:00+00:00"' in grid  # ids stay UTC


def test_a_tampered_cookie_is_ignored_and_the_page_shown_in_utc(viewer, etl):
    for bad in ["../../../etc/passwd", "Mars/Olympus", "x" * 300, "Europe/Paris%00"]:
        viewer.cookies["orch_timezone"] = bad
        response = viewer.get(RUN_PAGE)
        assert response.status_code == 200, bad
        assert ">2024-01-01 00:00:00 UTC</time>" in response.content.decode()


def test_choosing_a_zone_stores_it_and_goes_back_to_the_page(viewer, etl):
    response = viewer.post("/timezone/", {"timezone": " Europe/Paris ", "next": RUN_PAGE})
    assert response.status_code == 302 and response["Location"] == RUN_PAGE
    cookie = response.cookies["orch_timezone"]
    assert cookie.value == "Europe/Paris" and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert ">2024-01-01 01:00:00 CET</time>" in viewer.get(RUN_PAGE).content.decode()
    # The quick buttons (UTC, the browser's zone) win over the typed field.
    response = viewer.post("/timezone/", {"choice": "UTC", "timezone": "", "next": RUN_PAGE})
    assert response.cookies["orch_timezone"].value == "UTC"


def test_an_unknown_zone_is_refused_with_a_message_naming_it(viewer, etl):
    viewer.cookies["orch_timezone"] = "Asia/Tokyo"
    response = viewer.post("/timezone/", {"timezone": "Mars/Olympus", "next": RUN_PAGE})
    assert response.status_code == 302 and "orch_timezone" not in response.cookies
    [message] = list(get_messages(response.wsgi_request))
    assert "Unknown timezone 'Mars/Olympus'" in str(message)
    assert "JST" in viewer.get(RUN_PAGE).content.decode()  # the choice before is kept


def test_the_form_goes_back_only_to_this_site_and_only_by_post(viewer):
    response = viewer.post("/timezone/", {"timezone": "UTC", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert viewer.get("/timezone/").status_code == 405


def test_the_admin_shows_dates_in_the_same_format_and_zone(admin):
    event = AuditEvent.objects.create(event="trigger", owner="someone")
    AuditEvent.objects.filter(pk=event.pk).update(when=datetime(2024, 1, 1, tzinfo=UTC))
    admin.cookies["orch_timezone"] = "Asia/Tokyo"
    html = admin.get("/admin/dagruns/auditevent/").content.decode()
    assert "2024-01-01 09:00:00 JST" in html
    assert "Jan. 1, 2024" not in html


def test_the_event_log_dates_and_day_filter_follow_the_zone(viewer):
    event = AuditEvent.objects.create(event="trigger", owner="someone", dag_id="etl")
    AuditEvent.objects.filter(pk=event.pk).update(when=datetime(2024, 1, 1, 23, 30, tzinfo=UTC))
    viewer.cookies["orch_timezone"] = "Asia/Tokyo"
    html = viewer.get("/audit/", {"after": "2024-01-02", "before": "2024-01-02"}).content.decode()
    assert ">2024-01-02 08:30:00 JST</time>" in html  # 2 January in Tokyo
    html = viewer.get("/audit/", {"after": "2024-01-01", "before": "2024-01-01"}).content.decode()
    assert 'data-event="trigger"' not in html


def test_the_zone_costs_no_query(viewer, etl):
    utc = queries_of(viewer, "/dags/etl/")
    viewer.cookies["orch_timezone"] = "America/New_York"
    assert queries_of(viewer, "/dags/etl/") == utc


def test_the_task_page_lists_its_attributes_as_dates_and_human_units(viewer, etl):
    TaskInstance.objects.filter(task_id="extract").update(
        duration=0.074735, peak_memory=27590656, cpu_time=0.05
    )
    viewer.cookies["orch_timezone"] = "Asia/Tokyo"
    html = viewer.get(f"{RUN_PAGE}/tasks/extract").content.decode()
    attrs = html[html.index('class="table compact attrs"') :]
    assert '<th class="mono">duration</th><td>75 ms</td>' in attrs
    assert '<th class="mono">peak_memory</th><td>26.3 MiB</td>' in attrs
    assert '<th class="mono">start_date</th><td><time datetime="2024-01-01T00:00:00Z"' in attrs
    assert "0.074735" not in html and "27590656" not in html


def test_the_calendar_counts_days_and_links_runs_in_the_viewers_zone(viewer):
    dag = store_dag("late", {"t": []})
    # 20:00 UTC on 1 January is 05:00 on 2 January in Tokyo.
    add_run(dag, "late_run", state="success", when=datetime(2024, 1, 1, 20, tzinfo=UTC))
    client = viewer
    utc = client.get("/dags/late/calendar", {"year": 2024}).content.decode()
    assert 'data-date="2024-01-01" data-state="success"' in utc
    client.cookies["orch_timezone"] = "Asia/Tokyo"
    tokyo = client.get("/dags/late/calendar", {"year": 2024}).content.decode()
    assert 'data-date="2024-01-02" data-state="success"' in tokyo
    assert 'data-date="2024-01-01" data-state="success"' not in tokyo
    listed = client.get("/dags/late/runs", {"start": "2024-01-02", "end": "2024-01-02"})
    assert "late_run" in listed.content.decode()
