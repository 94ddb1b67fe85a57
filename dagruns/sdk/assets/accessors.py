"""The context's ``outlet_events``, ``inlet_events`` and ``triggering_asset_events``.

Pure Python: the runner gives `InletEventsAccessors` a function that fetches an asset's events
through the Execution API, fills `TriggeringAssetEvents` from the run's consumed events, and
sends what task code put into `OutletEventAccessors` with its success report (``serialize``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..exceptions import AirflowException
from .definitions import Asset, AssetAlias, AssetUniqueKey, _extra

Key = AssetUniqueKey | AssetAlias


def _key_of(key: object) -> Key:
    if isinstance(key, Asset):
        return key.key
    if isinstance(key, AssetAlias):
        return AssetAlias(key.name)
    raise KeyError(f"expected an Asset or an AssetAlias, got {key!r}")


@dataclass(frozen=True)
class AssetAliasEvent:
    """An event to emit for ``asset`` because task code added it to ``alias``."""

    alias_name: str
    asset: Asset
    extra: dict[str, Any]


@dataclass
class OutletEventAccessor:
    """``outlet_events[asset].extra`` (the extra of the asset's event), or for an alias,
    ``outlet_events[alias].add(asset, extra=...)``."""

    key: Key
    extra: dict[str, Any] = field(default_factory=dict)
    asset_alias_events: list[AssetAliasEvent] = field(default_factory=list)

    def add(self, asset: Asset, extra: dict[str, Any] | None = None) -> None:
        if not isinstance(self.key, AssetAlias):
            raise AirflowException(
                f"outlet_events[...].add() is for an AssetAlias, not for the asset {self.key}"
            )
        if not isinstance(asset, Asset):
            raise AirflowException(f"outlet_events[alias].add() takes an Asset, got {asset!r}")
        checked = _extra(f"Asset event for {asset.name!r}", extra)
        self.asset_alias_events.append(AssetAliasEvent(self.key.name, asset, checked))


class OutletEventAccessors(Mapping[Any, OutletEventAccessor]):
    """The context's ``outlet_events``: one accessor per asset or alias, made when first read."""

    def __init__(self) -> None:
        self._accessors: dict[Key, OutletEventAccessor] = {}

    def __getitem__(self, key: object) -> OutletEventAccessor:
        unique = _key_of(key)
        if unique not in self._accessors:
            self._accessors[unique] = OutletEventAccessor(unique)
        return self._accessors[unique]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._accessors)

    def __len__(self) -> int:
        return len(self._accessors)

    def serialize(self, outlets: Sequence[Any]) -> list[dict[str, Any]]:
        """What the runner reports on success: one entry per outlet asset (its extra) and one
        per asset added to an outlet alias. Events for assets or aliases that are not outlets
        of the task are refused, as Airflow only emits events for declared outlets."""
        entries: list[dict[str, Any]] = []
        declared = {_key_of(outlet) for outlet in outlets}
        # Metadata(asset, extra, alias=...) also writes the asset's own accessor (as in
        # Airflow): an asset added through an outlet alias is not a stray key.
        declared |= {
            event.asset.key
            for key in declared
            if key in self._accessors
            for event in self._accessors[key].asset_alias_events
        }
        for key in self._accessors:
            if key not in declared:
                raise AirflowException(
                    f"outlet_events[{key}] was set, but it is not among the task's outlets"
                )
        for outlet in outlets:
            found = self._accessors.get(_key_of(outlet))
            if isinstance(outlet, Asset):
                entries.append(
                    {
                        "name": outlet.name,
                        "uri": outlet.uri,
                        "group": outlet.group,
                        "extra": found.extra if found else {},
                    }
                )
            elif found is not None:
                for event in found.asset_alias_events:
                    entries.append(
                        {
                            "name": event.asset.name,
                            "uri": event.asset.uri,
                            "group": event.asset.group,
                            "extra": event.extra,
                            "source_alias_name": event.alias_name,
                        }
                    )
        return entries


@dataclass(frozen=True)
class AssetEventResult:
    """One asset event as task code sees it (Airflow's ``AssetEventResult``)."""

    id: int
    asset: Asset
    extra: dict[str, Any]
    source_dag_id: str | None
    source_task_id: str | None
    source_run_id: str | None
    source_map_index: int
    source_aliases: list[AssetAlias]
    timestamp: datetime

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> AssetEventResult:
        asset = data["asset"]
        timestamp = data["timestamp"]
        if isinstance(timestamp, str):
            timestamp = datetime.fromisoformat(timestamp)
        return cls(
            id=int(data["id"]),
            asset=Asset(name=asset["name"], uri=asset["uri"], group=asset.get("group")),
            extra=dict(data.get("extra") or {}),
            source_dag_id=data.get("source_dag_id"),
            source_task_id=data.get("source_task_id"),
            source_run_id=data.get("source_run_id"),
            source_map_index=int(data.get("source_map_index", -1)),
            source_aliases=[AssetAlias(a["name"]) for a in data.get("source_aliases") or []],
            timestamp=timestamp,
        )


Fetch = Callable[[Asset | AssetAlias], list[AssetEventResult]]


class InletEventsAccessors(Mapping[Any, list[AssetEventResult]]):
    """The context's ``inlet_events``: ``inlet_events[asset]`` is the list of the asset's
    events (oldest first), fetched when first read; only the task's inlets may be read."""

    def __init__(self, inlets: Sequence[Any], fetch: Fetch) -> None:
        self._inlets = {_key_of(inlet): inlet for inlet in inlets}
        self._fetch = fetch
        self._cache: dict[Key, list[AssetEventResult]] = {}

    def __getitem__(self, key: object) -> list[AssetEventResult]:
        unique = _key_of(key)
        if unique not in self._inlets:
            raise KeyError(f"{key!r} is not among the task's inlets")
        if unique not in self._cache:
            self._cache[unique] = self._fetch(self._inlets[unique])
        return self._cache[unique]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._inlets.values())

    def __len__(self) -> int:
        return len(self._inlets)


class TriggeringAssetEvents(Mapping[Any, list[AssetEventResult]]):
    """The context's ``triggering_asset_events``: the events that made an asset-triggered run,
    by asset (and by each alias they came through)."""

    def __init__(self, events: Sequence[AssetEventResult]) -> None:
        self._by_key: dict[Key, list[AssetEventResult]] = {}
        self._keys: dict[Key, Asset | AssetAlias] = {}
        for event in events:
            keys: list[Asset | AssetAlias] = [event.asset, *event.source_aliases]
            for key in keys:
                unique = _key_of(key)
                self._keys.setdefault(unique, key)
                self._by_key.setdefault(unique, []).append(event)

    def __getitem__(self, key: object) -> list[AssetEventResult]:
        return self._by_key[_key_of(key)]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._keys.values())

    def __len__(self) -> int:
        return len(self._keys)


def drain_metadata(generator: Any, outlet_events: Any, log: Any) -> Any:
    """Run a task callable that is a generator (Airflow's ExecutionCallableRunner): each
    yielded `Metadata` sets its outlet's event extra (and, with an alias, adds the asset to
    it); the generator's return value is the task's."""
    from .definitions import Metadata

    while True:
        try:
            item = next(generator)
        except StopIteration as stop:
            return stop.value
        if isinstance(item, Metadata):
            outlet_events[item.asset].extra.update(item.extra)
            if item.alias is not None:
                outlet_events[item.alias].add(item.asset, extra=item.extra)
            continue
        log.warning("Ignoring unknown data of %r received from task", type(item))
