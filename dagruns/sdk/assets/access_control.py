"""``AssetAccessControl`` (Airflow 3.3): which teams' DAGs may produce and consume an asset's
events when Airflow runs in multi-team mode.

Airflow filters asset events by team only with ``[core] multi_team = True``; otherwise an
asset's access control has no effect. Orchestrator has no teams (every DAG is teamless, and
``conf`` answers ``multi_team = False``), so the object is validated as Airflow validates it and
kept on the asset, and, exactly as in an Airflow deployment without multi-team mode, it filters
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..exceptions import DagDefinitionError


def _teams(name: str, value: Any, none_ok: bool) -> list[str] | None:
    if value is None and none_ok:
        return None
    if not isinstance(value, list | tuple):
        raise DagDefinitionError(f"AssetAccessControl {name} must be a list of team names")
    for entry in value:
        if not isinstance(entry, str) or not entry.strip():
            raise DagDefinitionError(f"Each entry in {name} must be a non-empty string")
    return list(value)


@dataclass
class AssetAccessControl:
    producer_teams: list[str] = field(default_factory=list)
    consumer_teams: list[str] | None = None
    allow_global: bool = True

    def __post_init__(self) -> None:
        self.producer_teams = _teams("producer_teams", self.producer_teams, none_ok=False) or []
        self.consumer_teams = _teams("consumer_teams", self.consumer_teams, none_ok=True)
        if not isinstance(self.allow_global, bool):
            raise DagDefinitionError(
                f"AssetAccessControl allow_global must be a bool, got {self.allow_global!r}"
            )
