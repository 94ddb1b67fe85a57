"""Health, version, import errors and the event (audit) log (Airflow's datamodels/monitor.py,
version.py, import_error.py, event_logs.py)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class BaseInfoResponse(BaseModel):
    status: str | None = None


class SchedulerInfoResponse(BaseInfoResponse):
    latest_scheduler_heartbeat: str | None = None


class TriggererInfoResponse(BaseInfoResponse):
    latest_triggerer_heartbeat: str | None = None


class DagProcessorInfoResponse(BaseInfoResponse):
    latest_dag_processor_heartbeat: str | None = None


class CeleryBeatInfoResponse(BaseInfoResponse):
    """Ours (Airflow has no beat): healthy, unhealthy, or absent (no beat and no Celery)."""

    latest_celery_beat_heartbeat: str | None = None


class HealthInfoResponse(BaseModel):
    metadatabase: BaseInfoResponse
    scheduler: SchedulerInfoResponse
    triggerer: TriggererInfoResponse
    dag_processor: DagProcessorInfoResponse | None = None
    celery_beat: CeleryBeatInfoResponse | None = None


class VersionInfo(BaseModel):
    version: str
    git_version: str | None = None


class ImportErrorResponse(BaseModel):
    import_error_id: int
    timestamp: datetime
    filename: str
    bundle_name: str | None = None
    stack_trace: str


class ImportErrorCollectionResponse(BaseModel):
    import_errors: list[ImportErrorResponse]
    total_entries: int


class EventLogResponse(BaseModel):
    event_log_id: int
    when: datetime
    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    map_index: int | None = None
    try_number: int | None = None
    event: str
    logical_date: datetime | None = None
    owner: str | None = None
    extra: str | None = None
    dag_display_name: str | None = None
    task_display_name: str | None = None


class EventLogCollectionResponse(BaseModel):
    event_logs: list[EventLogResponse]
    total_entries: int
