"""Reading the assets out of a serialized DAG: its schedule's asset condition and its tasks'
inlets and outlets (the SDK's encoded form, decoded back to SDK objects)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagruns.sdk.assets import Asset, AssetAlias, AssetRef, BaseAsset, decode_condition


def schedule_condition(serialized: Mapping[str, Any]) -> BaseAsset | None:
    """The asset condition of a serialized DAG's schedule, or None if it is not on assets."""
    schedule = serialized.get("schedule") or {}
    condition = (schedule.get("data") or {}).get("asset_condition")
    return decode_condition(condition) if condition else None


def task_assets(task: Mapping[str, Any], argument: str) -> list[Asset | AssetAlias | AssetRef]:
    """A serialized task's ``inlets`` or ``outlets``."""
    found: list[Asset | AssetAlias | AssetRef] = []
    for item in task.get(argument) or []:
        decoded = decode_condition(item)
        if isinstance(decoded, Asset | AssetAlias | AssetRef):
            found.append(decoded)
    return found
