"""`/monitor/health` and `/version`: open to anyone, as in Airflow (load balancers and
clients probe them before they have a token)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

from django.db import connection
from django.http import HttpRequest
from ninja import Router

from dagruns.api.rest.schemas.monitor import HealthInfoResponse, VersionInfo
from dagruns.domain import health

router = Router()

HEALTHY = health.HEALTHY
UNHEALTHY = health.UNHEALTHY


def _job_health(job_type: str) -> tuple[str, str | None]:
    job = health.job_health(job_type)
    beat = job.latest_heartbeat.isoformat() if job.latest_heartbeat else None
    return job.status, beat


@router.get(
    "/monitor/health",
    response=HealthInfoResponse,
    auth=None,
    tags=["Monitor"],
    operation_id="get_health",
)
def get_health(request: HttpRequest):
    """The metadata database, and the heartbeats of the scheduler, triggerer, DAG processor
    and Celery beat (healthy when the newest running one beat within the threshold; beat is
    `absent` when none runs and ORCH_EXECUTOR has no celery)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = HEALTHY
    except Exception:  # any database failure is what this endpoint reports
        database = UNHEALTHY
        return {
            "metadatabase": {"status": database},
            "scheduler": {"status": None},
            "triggerer": {"status": None},
            "dag_processor": {"status": None},
            "celery_beat": {"status": None},
        }
    scheduler, scheduler_beat = _job_health("scheduler")
    triggerer, triggerer_beat = _job_health("triggerer")
    processor, processor_beat = _job_health("dag_processor")
    celery_beat, celery_beat_beat = _job_health(health.BEAT)
    return {
        "metadatabase": {"status": database},
        "scheduler": {"status": scheduler, "latest_scheduler_heartbeat": scheduler_beat},
        "triggerer": {"status": triggerer, "latest_triggerer_heartbeat": triggerer_beat},
        "dag_processor": {
            "status": processor,
            "latest_dag_processor_heartbeat": processor_beat,
        },
        "celery_beat": {
            "status": celery_beat,
            "latest_celery_beat_heartbeat": celery_beat_beat,
        },
    }


def orchestrator_version() -> str:
    try:
        return package_version("orchestrator")
    except PackageNotFoundError:
        return "0.1.0"


@router.get(
    "/version", response=VersionInfo, auth=None, tags=["Version"], operation_id="get_version"
)
def get_version(request: HttpRequest):
    """This server's version (ours, not Airflow's)."""
    return {"version": orchestrator_version(), "git_version": None}
