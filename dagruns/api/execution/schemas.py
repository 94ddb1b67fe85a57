"""Request and response bodies of the Execution API (docs/engine.md)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from ninja import Schema
from pydantic import Field, model_validator


class RunIn(Schema):
    hostname: str = ""
    pid: int | None = None
    start_date: datetime | None = None


class HeartbeatIn(Schema):
    hostname: str = ""
    pid: int | None = None


class StateIn(Schema):
    # up_for_reschedule (a reschedule-mode sensor) needs reschedule_date, Airflow 3's
    # TIRescheduleStatePayload; the other states refuse it. deferred: see below.
    state: Literal["success", "failed", "skipped", "up_for_reschedule", "deferred"]
    reschedule_date: datetime | None = None
    end_date: datetime | None = None
    fail_without_retry: bool = False
    # state "failed": the delay before the next try a task's retry_policy chose (Airflow
    # 3.3's TIRetryStatePayload.retry_delay_seconds); none: the task's own retry delay.
    retry_delay_seconds: float | None = Field(default=None, ge=0)
    cpu_time: float | None = Field(default=None, ge=0)
    peak_memory: int | None = Field(default=None, ge=0)
    rendered_fields: dict[str, Any] | None = None
    branch_task_ids: list[str] | None = None
    skip_downstream: Literal["all", "direct"] | None = None
    # On success: the tasks a SkipMixin operator skipped (DownstreamTasksSkipped), as ids or
    # (task_id, map_index) pairs, as in Airflow 3's TISkippedDownstreamTasksStatePayload.
    # Each must be downstream of the task; optional, so older runners are unaffected.
    downstream_tasks_skipped: list[str | tuple[str, int]] | None = Field(
        default=None, max_length=10000
    )
    # The task's map_index_template rendered for this instance (mapped tasks only).
    rendered_map_index: str | None = Field(default=None, max_length=250)
    # The try's last log lines, appended before the state changes: saves the runner a separate
    # logs call at the end of every try (our addition to the contract; optional).
    logs: list[str] | None = None
    # On success: the events of the task's outlets (see OutletEventIn).
    outlet_events: list[OutletEventIn] | None = None
    # state "deferred" only (Airflow 3's TIDeferredStatePayload): the trigger, and where and
    # with what the task resumes; kwargs JSON-encoded by dagruns/sdk/triggers/serde.py.
    classpath: str | None = Field(default=None, min_length=1, max_length=1000)
    trigger_kwargs: dict[str, Any] | None = None
    trigger_timeout: timedelta | None = None
    next_method: str | None = Field(default=None, min_length=1, max_length=1000)
    next_kwargs: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _retry_delay_with_failed_only(self) -> StateIn:
        if self.retry_delay_seconds is not None and self.state != "failed":
            raise ValueError(f"retry_delay_seconds does not apply to state {self.state!r}")
        return self

    @model_validator(mode="after")
    def _deferral_fields_with_deferred_only(self) -> StateIn:
        deferral = ("classpath", "trigger_kwargs", "trigger_timeout", "next_method", "next_kwargs")
        if self.state == "deferred":
            missing = [name for name in ("classpath", "next_method") if getattr(self, name) is None]
            if missing:
                raise ValueError(f"state 'deferred' needs {' and '.join(missing)}")
        else:
            sent = [name for name in deferral if getattr(self, name) is not None]
            if sent:
                raise ValueError(f"{', '.join(sent)} may only be sent with state 'deferred'")
        return self

    @model_validator(mode="after")
    def _reschedule_date_only_to_reschedule(self) -> StateIn:
        if self.state == "up_for_reschedule" and self.reschedule_date is None:
            raise ValueError("reschedule_date is required when state is up_for_reschedule")
        if self.state != "up_for_reschedule" and self.reschedule_date is not None:
            raise ValueError("reschedule_date is only for state up_for_reschedule")
        return self


class StateOut(Schema):
    state: str


class LogsIn(Schema):
    lines: list[str]


class DagRunOut(Schema):
    dag_id: str
    run_id: str
    logical_date: datetime | None
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    run_after: datetime
    start_date: datetime | None
    run_type: str
    conf: dict[str, Any]
    # The events an asset-triggered run consumed (the context's triggering_asset_events).
    consumed_asset_events: list[AssetEventOut] = Field(default_factory=list)

    @staticmethod
    def resolve_consumed_asset_events(obj: Any) -> list[Any]:
        if isinstance(obj, dict) or obj.run_type != "asset_triggered":
            return []
        return list(
            obj.consumed_asset_events.select_related("asset").prefetch_related("source_aliases")
        )


class TaskInstanceOut(Schema):
    id: uuid.UUID
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int
    max_tries: int
    # How many instances the task expanded into (None: not a mapped task); context's
    # expanded_ti_count.
    expanded_ti_count: int | None = None


class PreviousDagRunOut(Schema):
    """The DAG's latest successful run before this one (the context's `prev_*_success`)."""

    data_interval_start: datetime | None
    data_interval_end: datetime | None
    start_date: datetime | None
    end_date: datetime | None


class RunOut(Schema):
    dag_run: DagRunOut
    task_instance: TaskInstanceOut
    dag_fileloc: str
    # None when there is none, or the run has no logical date (as Airflow 3 answers).
    previous_successful_dag_run: PreviousDagRunOut | None = None
    # A try resuming after a deferral (Airflow 3's TIRunContext): the method to run instead of
    # execute() and its kwargs (with the trigger's `event`), JSON-encoded.
    next_method: str | None = None
    next_kwargs: dict[str, Any] | None = None
    # How many times this try was rescheduled so far (Airflow 3's TIRunContext field).
    task_reschedule_count: int = 0


class XComOut(Schema):
    key: str
    value: Any


class XComSetOut(Schema):
    message: str


class XComSequenceOut(Schema):
    """A slice of a mapped task's XComs, ordered by map index, and how many there are."""

    length: int
    values: list[Any]


class VariableOut(Schema):
    key: str
    value: str


class VariablePutIn(Schema):
    value: str
    description: str | None = None


class VariableSetOut(Schema):
    message: str


class ConnectionOut(Schema):
    conn_id: str
    conn_type: str
    host: str | None
    schema_: str | None = Field(alias="schema")
    login: str | None
    password: str | None
    port: int | None
    extra: str | None


class ErrorOut(Schema):
    detail: Any


# -- assets (dagruns/api/execution/routes_assets.py) ------------------------------------


class OutletEventIn(Schema):
    """An asset event a succeeded task asks for: its outlet asset's extra, or an asset it
    added to an outlet alias (`source_alias_name`)."""

    name: str = Field(max_length=1500)
    uri: str = Field(max_length=1500)
    group: str = Field(default="asset", max_length=1500)
    extra: dict[str, Any] = Field(default_factory=dict)
    source_alias_name: str | None = Field(default=None, max_length=1500)


class AssetReferenceOut(Schema):
    name: str
    uri: str
    group: str


class AssetOut(Schema):
    """An asset, for an ``@asset`` function's inlet parameter (Airflow's AssetResponse)."""

    name: str
    uri: str
    group: str
    extra: dict[str, Any]


class AssetAliasReferenceOut(Schema):
    name: str


class AssetEventOut(Schema):
    """One asset event (the context's `inlet_events` and `triggering_asset_events` items)."""

    id: int
    timestamp: datetime
    extra: dict[str, Any]
    asset: AssetReferenceOut
    source_dag_id: str | None
    source_task_id: str | None
    source_run_id: str | None
    source_map_index: int
    source_aliases: list[AssetAliasReferenceOut]

    @staticmethod
    def resolve_source_aliases(obj: Any) -> list[Any]:
        return list(obj.source_aliases.all()) if hasattr(obj, "source_aliases") else []

    @staticmethod
    def resolve_source_dag_id(obj: Any) -> str | None:
        return obj.source_dag_id or None

    @staticmethod
    def resolve_source_task_id(obj: Any) -> str | None:
        return obj.source_task_id or None

    @staticmethod
    def resolve_source_run_id(obj: Any) -> str | None:
        return obj.source_run_id or None


class AssetEventsOut(Schema):
    asset_events: list[AssetEventOut]
