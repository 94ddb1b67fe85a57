"""Shapes shared by every resource: errors, enums of states, DAG versions and tags."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

# Airflow's state enums, one definition for DAG files and this API (the same names and values
# Airflow's REST document publishes); re-exported for the schemas and routes that use them.
from dagruns.sdk.airflow_compat.states import DagRunState as DagRunState
from dagruns.sdk.airflow_compat.states import TaskInstanceState as TaskInstanceState


def _to_utc(value: datetime) -> datetime:
    # PostgreSQL takes offsets up to ±15:59 only (Python up to ±23:59), and a date near year
    # 1 may not survive the shift: UTC it is, or a 422 naming the field.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("date is out of range") from None


def _not_a_number(value: Any) -> Any:
    # pydantic reads a bare number ("0.5", 1700000000) as seconds since the epoch; the
    # document promises an RFC 3339 date-time, and `updated_at_lte=0.5` meaning 1970 is
    # a trap: refuse it with a 422 naming the field.
    text = value.strip() if isinstance(value, str) else value
    is_number = isinstance(text, int | float) and not isinstance(text, bool)
    if isinstance(text, str):
        try:
            float(text)
            is_number = True
        except ValueError:
            pass
    if is_number:
        raise ValueError("must be an ISO 8601 date-time with a timezone, not a number")
    return value


# An integer query or path value (map_index, try_number, version_number, an id) within the
# database's 32-bit INTEGER: beyond it a 422 names the parameter and the bound, instead of
# an overflow deep in the driver.
DbInt = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
# The same for a 64-bit BIGINT column (the primary keys of newer tables: BigAutoField).
DbBigInt = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


def _json_number(kind: str) -> BeforeValidator:
    """In a JSON body a number is a number: "5" and true are refused with a 422 (pydantic's
    lax mode would take them, the document says integer/number), while 5.0 is still the
    integer 5 as JSON Schema says. `kind` is pydantic's word (int, float) for the error."""

    def check(value: Any) -> Any:
        if isinstance(value, str):
            raise PydanticCustomError(
                f"{kind}_parsing", "Input should be a JSON number, not a string"
            )
        if isinstance(value, bool):
            raise PydanticCustomError(f"{kind}_type", "Input should be a JSON number")
        return value

    return BeforeValidator(check)


# An integer field of a JSON body. With bounds, put them before the check (pydantic would
# otherwise publish them as unknown keys): Annotated[int, Field(ge=0), JSON_NUMBER].
JSON_NUMBER = _json_number("int")
JsonInt = Annotated[int, JSON_NUMBER]


# A duration filter in seconds: a finite number (NaN and infinity are a 422) within ±10**10 s
# (three centuries), so that it fits a timedelta and the database's microseconds on SQLite
# (a 64-bit integer) as well as PostgreSQL's interval; beyond it a 422 names the bound.
MAX_DURATION_SECONDS = 10**10
Seconds = Annotated[
    float, Field(allow_inf_nan=False, ge=-MAX_DURATION_SECONDS, le=MAX_DURATION_SECONDS)
]
# The same in a JSON body (the batch lists), where "5" is a string, not a number.
BodySeconds = Annotated[Seconds, _json_number("float")]

# A timezone-aware date-time (a naive one is a 422, as in Airflow), normalized to UTC.
UtcDatetime = Annotated[AwareDatetime, BeforeValidator(_not_a_number), AfterValidator(_to_utc)]


class StrictBody(BaseModel):
    """A request body that refuses unknown fields with a 422 (Airflow's StrictBaseModel)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class HTTPExceptionResponse(BaseModel):
    detail: str | dict[str, Any]


class ValidationError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class HTTPValidationError(BaseModel):
    detail: list[ValidationError] | None = None


class DagRunType(StrEnum):
    BACKFILL = "backfill"
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    ASSET_TRIGGERED = "asset_triggered"


class DagRunTriggeredByType(StrEnum):
    CLI = "cli"
    OPERATOR = "operator"
    REST_API = "rest_api"
    UI = "ui"
    TEST = "test"
    TIMETABLE = "timetable"
    ASSET = "asset"
    BACKFILL = "backfill"


class DagVersionResponse(BaseModel):
    # Airflow's version ids are UUIDs; ours are integers, shown as the UUID whose integer
    # value is the row id (00000000-…-000000000007 is version row 7).
    id: UUID
    version_number: int
    dag_id: str
    bundle_name: str | None = None
    bundle_version: str | None = None
    created_at: datetime
    dag_display_name: str
    bundle_url: str | None = None


class DagTagResponse(BaseModel):
    name: str
    dag_id: str
    dag_display_name: str


ERRORS: dict[int, type[BaseModel]] = {
    400: HTTPExceptionResponse,
    401: HTTPExceptionResponse,
    403: HTTPExceptionResponse,
    404: HTTPExceptionResponse,
    406: HTTPExceptionResponse,
    409: HTTPExceptionResponse,
    422: HTTPValidationError,
}


def errors(*codes: int) -> dict[int, type[BaseModel]]:
    """The error responses of an operation: always 401, 403 and 422, plus `codes`."""
    return {code: ERRORS[code] for code in sorted({401, 403, 422, *codes})}


class TimeRangeFilters(Schema):
    """Airflow's `<field>_gte/_gt/_lte/_lt` filters on a run's or try's timestamps and duration,
    declared once for the run and task-instance lists and their batch bodies."""

    run_after_gte: UtcDatetime | None = None
    run_after_gt: UtcDatetime | None = None
    run_after_lte: UtcDatetime | None = None
    run_after_lt: UtcDatetime | None = None
    logical_date_gte: UtcDatetime | None = None
    logical_date_gt: UtcDatetime | None = None
    logical_date_lte: UtcDatetime | None = None
    logical_date_lt: UtcDatetime | None = None
    start_date_gte: UtcDatetime | None = None
    start_date_gt: UtcDatetime | None = None
    start_date_lte: UtcDatetime | None = None
    start_date_lt: UtcDatetime | None = None
    end_date_gte: UtcDatetime | None = None
    end_date_gt: UtcDatetime | None = None
    end_date_lte: UtcDatetime | None = None
    end_date_lt: UtcDatetime | None = None
    duration_gte: Seconds | None = None
    duration_gt: Seconds | None = None
    duration_lte: Seconds | None = None
    duration_lt: Seconds | None = None


class BodyTimeRangeFilters(TimeRangeFilters):
    """The same filters in a JSON body (the batch lists): durations must be JSON numbers."""

    duration_gte: BodySeconds | None = None
    duration_gt: BodySeconds | None = None
    duration_lte: BodySeconds | None = None
    duration_lt: BodySeconds | None = None
