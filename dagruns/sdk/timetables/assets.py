"""Timetables of DAGs scheduled on assets (Airflow's ``AssetTriggeredTimetable`` in
``airflow.timetables.simple`` and ``AssetOrTimeSchedule`` in ``airflow.timetables.assets``).

They never answer a next run date for the asset part: the scheduler creates an
``asset_triggered`` run when the queued asset events satisfy ``asset_condition``
(scheduler/scheduling/asset_runs.py). `AssetOrTimeSchedule` also runs on its time timetable.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from ..assets.definitions import AssetAll, BaseAsset, decode_condition
from ..exceptions import DagDefinitionError
from .base import DagRunInfo, DataInterval, TimeRestriction, Timetable, ensure_aware


def _condition(assets: object) -> BaseAsset:
    if isinstance(assets, BaseAsset):
        return assets
    if isinstance(assets, Collection) and not isinstance(assets, str) and assets:
        items = list(assets)
        if all(isinstance(item, BaseAsset) for item in items):
            return AssetAll(*items)
    raise DagDefinitionError(
        f"assets must be an asset, an asset alias, a non-empty list of them or their "
        f"&/| combination, got {assets!r}"
    )


class AssetTriggeredTimetable(Timetable):
    """``schedule=[Asset(...)]`` or an asset expression: runs when the assets are updated."""

    periodic = False
    description = "Triggered by assets"

    def __init__(self, assets: Any) -> None:
        self.asset_condition = _condition(assets)

    @property
    def summary(self) -> str:
        if next(self.asset_condition.iter_assets(), None) is None:
            return "Unresolved AssetAlias"
        return "Asset"

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
        now: datetime | None = None,
    ) -> DagRunInfo | None:
        return None

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        return DataInterval.exact(ensure_aware(run_after, "run_after"))

    def serialize(self) -> dict[str, Any]:
        return {"asset_condition": self.asset_condition.encode()}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls(decode_condition(data["asset_condition"]))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.serialize() == other.serialize()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(repr(self.serialize()))


class AssetOrTimeSchedule(AssetTriggeredTimetable):
    """Runs on its ``timetable`` and also whenever ``assets`` are updated."""

    def __init__(self, *, timetable: Timetable, assets: Any) -> None:
        super().__init__(assets)
        if not isinstance(timetable, Timetable) or isinstance(timetable, AssetTriggeredTimetable):
            raise DagDefinitionError(
                f"AssetOrTimeSchedule: timetable must be a time-based Timetable, got {timetable!r}"
            )
        self.timetable = timetable
        self.description = f"Triggered by assets or {timetable.description}"
        self.periodic = timetable.periodic
        self.can_be_scheduled = timetable.can_be_scheduled

    @property
    def summary(self) -> str:
        return f"Asset or {self.timetable.summary}"

    def validate(self) -> None:
        from .checks import check_timetable

        check_timetable(self.timetable, "?")

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
        now: datetime | None = None,
    ) -> DagRunInfo | None:
        from .base import current_time
        from .calling import next_dagrun_info

        return next_dagrun_info(
            self.timetable,
            last_automated_data_interval=last_automated_data_interval,
            restriction=restriction,
            now=current_time(now),
        )

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        return self.timetable.infer_manual_data_interval(run_after)

    def serialize(self) -> dict[str, Any]:
        from .registry import class_path

        return {
            "asset_condition": self.asset_condition.encode(),
            "timetable": {
                "class": class_path(type(self.timetable)),
                "data": self.timetable.serialize(),
            },
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        from .registry import builtin_timetable

        return cls(
            timetable=builtin_timetable(data["timetable"]),
            assets=decode_condition(data["asset_condition"]),
        )
