"""Variables, connections and pools (Airflow's datamodels/variables.py, connections.py,
pools.py). `team_name` exists only for Airflow's multi-team mode, which we do not have: it is
accepted when null and always returned null."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictBool, field_validator

from dagruns.api.rest.schemas.common import JSON_NUMBER, JsonInt, StrictBody

CONNECTION_ID_PATTERN = r"^[\w.-]+$"


class VariableResponse(BaseModel):
    key: str
    value: str | None = None
    description: str | None = None
    is_encrypted: bool
    team_name: str | None = None


class VariableBody(StrictBody):
    key: str = Field(..., max_length=250, min_length=1)
    # Any JSON value; stored as text (non-strings as their JSON), as Airflow does.
    value: Any = Field(...)
    description: str | None = None
    team_name: None = None


class VariableCollectionResponse(BaseModel):
    variables: list[VariableResponse]
    total_entries: int


class ConnectionResponse(BaseModel):
    connection_id: str
    conn_type: str
    description: str | None = None
    host: str | None = None
    login: str | None = None
    schema_: str | None = Field(None, alias="schema", serialization_alias="schema")
    port: int | None = None
    # Write-only: the API never returns a connection's password (always null).
    password: str | None = None
    extra: str | None = None
    team_name: str | None = None


class ConnectionBody(StrictBody):
    connection_id: str = Field(..., max_length=200, pattern=CONNECTION_ID_PATTERN)
    conn_type: str = Field(..., max_length=500, min_length=1)
    description: str | None = None
    host: str | None = Field(None, max_length=500)
    login: str | None = None
    schema_: str | None = Field(None, alias="schema", max_length=500)
    port: Annotated[int, Field(ge=0, le=65535), JSON_NUMBER] | None = None
    password: str | None = None
    extra: str | None = None
    team_name: None = None

    @field_validator("extra")
    @classmethod
    def _extra_is_a_json_object(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return value
        try:
            parsed = json.loads(value)
        except ValueError:
            raise ValueError("The extra field must be a valid JSON object (e.g. {}).") from None
        if not isinstance(parsed, dict):
            raise ValueError("The extra field must be a valid JSON object (e.g. {}).")
        return value


class ConnectionCollectionResponse(BaseModel):
    connections: list[ConnectionResponse]
    total_entries: int


class PoolResponse(BaseModel):
    name: str
    slots: int
    description: str | None = None
    include_deferred: bool
    # For an unlimited pool (slots -1) open_slots is -1: Airflow computes infinity there,
    # which its own integer schema cannot carry.
    occupied_slots: int
    running_slots: int
    queued_slots: int
    scheduled_slots: int
    open_slots: int
    deferred_slots: int
    team_name: str | None = None


class PoolBody(StrictBody):
    name: str = Field(..., max_length=256, min_length=1)
    slots: JsonInt = Field(..., ge=-1)
    description: str | None = None
    include_deferred: StrictBool = False
    team_name: None = None


class PoolPatchBody(StrictBody):
    pool: str | None = Field(None, max_length=256, min_length=1)
    slots: Annotated[int, Field(ge=-1), JSON_NUMBER] | None = None
    description: str | None = None
    # Absent means unchanged; null is refused (the column has no "unknown"), as a 422.
    include_deferred: StrictBool = None  # type: ignore[assignment]
    team_name: None = None


class PoolCollectionResponse(BaseModel):
    pools: list[PoolResponse]
    total_entries: int


class ConnectionTestResponse(BaseModel):
    status: bool
    message: str
