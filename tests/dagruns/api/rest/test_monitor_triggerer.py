"""The triggerer's health is judged by its own threshold (Airflow's
triggerer_health_check_threshold), the one other triggerers use to take its triggers over."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dagruns.models import Job

pytestmark = pytest.mark.django_db


def test_a_triggerer_silent_past_its_threshold_is_unhealthy(nobody, orch_settings):
    orch_settings.triggerer_health_check_threshold = 10
    orch_settings.scheduler_health_check_threshold = 60
    beat = timezone.now() - timedelta(seconds=20)
    Job.objects.create(job_type="triggerer", start_date=beat, latest_heartbeat=beat)
    Job.objects.create(job_type="scheduler", start_date=beat, latest_heartbeat=beat)
    body = nobody.get("/monitor/health").json()
    assert body["triggerer"]["status"] == "unhealthy"
    assert body["scheduler"]["status"] == "healthy"
    orch_settings.triggerer_health_check_threshold = 30
    assert nobody.get("/monitor/health").json()["triggerer"]["status"] == "healthy"
