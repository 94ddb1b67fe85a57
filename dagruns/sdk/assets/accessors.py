"""The context's ``outlet_events``, ``inlet_events`` and ``triggering_asset_events``.

Pure Python: the runner gives `InletEventsAccessors` a function that fetches an asset's events
through the Execution API, fills `TriggeringAssetEvents` from the run's consumed events, and
sends what task code put into `OutletEventAccessors` with its success report (``serialize``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..exceptions import AirflowException
from .definitions import (
    Asset,
    AssetAlias,
    AssetNameRef,
    AssetRef,
    AssetUniqueKey,
    AssetUriRef,
    _extra,
)

Key = AssetUniqueKey | AssetAlias


def _key_of(key: object) -> Key:
    if isinstance(key, Asset):
        return key.key
    if isinstance(key, AssetAlias):
        return AssetAlias(key.name)
    if isinstance(key, AssetRef):
        raise KeyError(
            f"{key!r}: outlet_events and triggering_asset_events take the Asset itself, not a "
            "reference to it (resolving references while the task runs is not supported yet)"
        )
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
        # An Asset.ref outlet gets its event on the server, which resolves it (no extra).
        outlets = [outlet for outlet in outlets if not isinstance(outlet, AssetRef)]
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


@dataclass(frozen=True)
class EventQuery:
    """Which events ``inlet_events[...]`` reads: an asset's (by name and/or URI) or an
    alias's, optionally after/before a time, oldest or newest first, at most ``limit``
    (Airflow's ``GetAssetEventByAsset`` / ``GetAssetEventByAssetAlias``)."""

    name: str | None = None
    uri: str | None = None
    alias_name: str | None = None
    after: str | None = None
    before: str | None = None
    ascending: bool = True
    limit: int | None = None


Fetch = Callable[[EventQuery], list[AssetEventResult]]


class InletEventsAccessor(Sequence[AssetEventResult]):
    """The events of one inlet, fetched when first read; ``.after(...)``, ``.before(...)``,
    ``.ascending(...)`` and ``.limit(...)`` narrow the query (Airflow's accessor)."""

    def __init__(self, fetch: Fetch, query: EventQuery) -> None:
        self._fetch = fetch
        self._query = query
        self._events: list[AssetEventResult] | None = None

    def _narrowed(self, **changes: Any) -> InletEventsAccessor:
        self._query = replace(self._query, **changes)
        self._events = None
        return self

    def after(self, after: str) -> InletEventsAccessor:
        return self._narrowed(after=str(after))

    def before(self, before: str) -> InletEventsAccessor:
        return self._narrowed(before=str(before))

    def ascending(self, ascending: bool = True) -> InletEventsAccessor:
        return self._narrowed(ascending=bool(ascending))

    def limit(self, limit: int) -> InletEventsAccessor:
        return self._narrowed(limit=int(limit))

    @property
    def events(self) -> list[AssetEventResult]:
        if self._events is None:
            self._events = self._fetch(self._query)
        return self._events

    def __getitem__(self, index: Any) -> Any:
        return self.events[index]

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[AssetEventResult]:
        return iter(self.events)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, InletEventsAccessor):
            return self.events == other.events
        return isinstance(other, list) and self.events == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.events)


class _ForAsset:
    """``for_asset(name=..., uri=...)`` and ``for_asset_alias(name=...)`` (Airflow's
    ``_AssetEventAccessorsMixin``): with both name and URI the key is that asset, with one
    of them it is ``Asset.ref(...)``."""

    def __getitem__(self, key: Any) -> Any:
        raise NotImplementedError

    def for_asset(self, *, name: str | None = None, uri: str | None = None) -> Any:
        if name and uri:
            return self[Asset(name=name, uri=uri)]
        if name:
            return self[Asset.ref(name=name)]
        if uri:
            return self[Asset.ref(uri=uri)]
        raise ValueError("name and uri cannot both be None")

    def for_asset_alias(self, *, name: str) -> Any:
        return self[AssetAlias(name=name)]


def _matches(ref: AssetRef, asset: Asset) -> bool:
    if isinstance(ref, AssetNameRef):
        return asset.name == ref.name
    return isinstance(ref, AssetUriRef) and asset.uri == ref.uri


class InletEventsAccessors(_ForAsset, Mapping[Any, InletEventsAccessor]):
    """The context's ``inlet_events``: ``inlet_events[asset]`` (or ``[alias]``, ``[ref]``,
    ``[index]``, ``.for_asset(...)``) is the inlet's events, oldest first, fetched when first
    read. Only the task's inlets may be read, as in Airflow."""

    def __init__(self, inlets: Sequence[Any], fetch: Fetch) -> None:
        self._inlets = list(inlets)
        self._fetch = fetch
        self._accessors: dict[EventQuery, InletEventsAccessor] = {}

    def _query(self, key: object) -> EventQuery:
        if isinstance(key, int) and not isinstance(key, bool):
            key = self._inlets[key]  # IndexError past the end, as Airflow
        for inlet in self._inlets:
            if isinstance(key, AssetAlias) and isinstance(inlet, AssetAlias):
                if inlet.name == key.name:
                    return EventQuery(alias_name=inlet.name)
            elif isinstance(key, Asset):
                if isinstance(inlet, Asset) and inlet.key == key.key:
                    return EventQuery(name=inlet.name, uri=inlet.uri)
                if isinstance(inlet, AssetRef) and _matches(inlet, key):
                    return EventQuery(name=key.name, uri=key.uri)
            elif isinstance(key, AssetRef):
                if isinstance(inlet, Asset) and _matches(key, inlet):
                    return EventQuery(name=inlet.name, uri=inlet.uri)
                if inlet == key:
                    by_name = isinstance(key, AssetNameRef)
                    return EventQuery(
                        name=key.value if by_name else None, uri=None if by_name else key.value
                    )
        if not isinstance(key, Asset | AssetAlias | AssetRef):
            raise TypeError(f"`key` is of unknown type ({type(key).__name__})")
        raise KeyError(f"{key!r} is not among the task's inlets")

    def __getitem__(self, key: object) -> InletEventsAccessor:
        # One accessor per inlet: reading it again does not fetch again.
        query = self._query(key)
        if query not in self._accessors:
            self._accessors[query] = InletEventsAccessor(self._fetch, query)
        return self._accessors[query]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._inlets)

    def __len__(self) -> int:
        return len(self._inlets)


class TriggeringAssetEvents(_ForAsset, Mapping[Any, list[AssetEventResult]]):
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
        if isinstance(key, AssetRef):
            for known in self._keys.values():
                if isinstance(known, Asset) and _matches(key, known):
                    return self._by_key[known.key]
            raise KeyError(key)
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
