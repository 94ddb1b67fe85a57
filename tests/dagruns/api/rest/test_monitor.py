"""Health, version, import errors and the event log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dagruns.models import AuditEvent, Job
from tests.dagruns.api.rest.conftest import ids

pytestmark = pytest.mark.django_db


def job(kind: str, age_seconds: float) -> Job:
    beat = timezone.now() - timedelta(seconds=age_seconds)
    return Job.objects.create(job_type=kind, start_date=beat, latest_heartbeat=beat)


def test_health_reports_the_database_and_each_heartbeat(nobody):
    job("scheduler", 2)
    job("dag_processor", 300)
    body = nobody.get("/monitor/health").json()
    assert body["metadatabase"] == {"status": "healthy"}
    assert body["scheduler"]["status"] == "healthy"
    assert body["scheduler"]["latest_scheduler_heartbeat"]
    assert body["dag_processor"]["status"] == "unhealthy"
    assert body["triggerer"] == {"status": "unhealthy", "latest_triggerer_heartbeat": None}
    assert body["celery_beat"] == {"status": "absent", "latest_celery_beat_heartbeat": None}


def test_celery_beat_is_unhealthy_when_celery_needs_it_and_none_beats(nobody, orch_settings):
    orch_settings.executor = "celery"
    assert nobody.get("/monitor/health").json()["celery_beat"]["status"] == "unhealthy"
    job("celery_beat", 300)  # silent past ORCH_SCHEDULER_HEALTH_CHECK_THRESHOLD
    assert nobody.get("/monitor/health").json()["celery_beat"]["status"] == "unhealthy"
    job("celery_beat", 1)
    body = nobody.get("/monitor/health").json()["celery_beat"]
    assert body["status"] == "healthy" and body["latest_celery_beat_heartbeat"]


def test_version(nobody):
    assert nobody.get("/version").json()["version"]


def test_import_errors_list_and_get(viewer, world):
    body = viewer.get("/importErrors").json()
    assert body["total_entries"] == 1 and body["import_errors"][0]["filename"] == "/dags/bad.py"
    one = viewer.get(f"/importErrors/{world['import_error'].pk}").json()
    assert one["stack_trace"] == "Traceback…"


def test_the_event_log_shows_api_mutations_with_their_author(user, viewer, world):
    user.patch("/dags/etl", {"is_paused": True})
    body = viewer.get("/eventLogs", params={"owner": "uma"}).json()
    assert ids(body["event_logs"], "event") == ["paused"]
    assert (
        viewer.get("/eventLogs", params={"excluded_events": "paused"}).json()["total_entries"] == 0
    )
    event = AuditEvent.objects.get(owner="uma")
    assert viewer.get(f"/eventLogs/{event.pk}").json()["dag_id"] == "etl"
    assert viewer.get("/eventLogs/999999").status_code == 404
