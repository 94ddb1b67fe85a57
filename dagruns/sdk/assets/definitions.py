"""Assets: what tasks produce (``outlets=``) and DAGs wait for (``schedule=``).

Airflow 3's ``airflow.sdk.definitions.asset``: an `Asset` is identified by its name and URI
(either defaults to the other), belongs to a group, and carries an ``extra`` dict; an
`AssetAlias` names assets a task decides on at run time; ``a & b`` is `AssetAll`, ``a | b``
is `AssetAny`. Each knows its Airflow serialized form (``encode``/`decode_condition`), its
display expression (``as_expression``, the REST API's ``asset_expression``) and whether it is
satisfied by the assets that have new events (`evaluate`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from ..exceptions import DagDefinitionError
from .access_control import AssetAccessControl
from .uri import MAX_LENGTH, sanitize_uri


@dataclass(frozen=True)
class AssetUniqueKey:
    """What identifies an asset in the database: its name and URI together."""

    name: str
    uri: str

    def to_asset(self) -> Asset:
        return Asset(name=self.name, uri=self.uri)


def _identifier(owner: str, field: str, value: object, *, empty_ok: bool = False) -> str:
    if not isinstance(value, str):
        raise DagDefinitionError(f"{owner} {field} must be a string, got {value!r}")
    if len(value) > MAX_LENGTH:
        raise DagDefinitionError(f"{owner} {field} cannot exceed {MAX_LENGTH} characters")
    if value and value.isspace():
        raise DagDefinitionError(f"{owner} {field} cannot be just whitespace")
    if not value and not empty_ok:
        raise DagDefinitionError(f"{owner} {field} cannot be empty")
    return value


def _extra(owner: str, extra: object) -> dict[str, Any]:
    if extra is None:
        return {}
    if not isinstance(extra, dict):
        raise DagDefinitionError(f"{owner} extra must be a dict, got {type(extra).__name__}")
    try:
        json.dumps(extra)
    except (TypeError, ValueError) as exc:
        raise DagDefinitionError(f"{owner} extra must be JSON-serializable: {exc}") from exc
    return extra


class BaseAsset:
    """What ``schedule=`` takes: an asset, an alias, or an ``&``/``|`` combination."""

    def __bool__(self) -> bool:
        return True

    def __or__(self, other: BaseAsset) -> BaseAsset:
        if not isinstance(other, BaseAsset):
            return NotImplemented
        return AssetAny(self, other)

    def __and__(self, other: BaseAsset) -> BaseAsset:
        if not isinstance(other, BaseAsset):
            return NotImplemented
        return AssetAll(self, other)

    def as_expression(self) -> Any:
        raise NotImplementedError

    def encode(self) -> dict[str, Any]:
        raise NotImplementedError

    def iter_assets(self) -> Iterator[Asset]:
        raise NotImplementedError

    def iter_asset_aliases(self) -> Iterator[AssetAlias]:
        raise NotImplementedError

    def iter_asset_refs(self) -> Iterator[AssetRef]:
        return iter(())

    def evaluate(self, is_true: Callable[[BaseAsset], bool]) -> bool:
        """Whether the condition holds when ``is_true(leaf)`` says which assets and aliases
        have had an event since the DAG last ran."""
        return is_true(self)


class AssetWatcher:
    """Event-driven scheduling (Airflow's ``AssetWatcher``): ``trigger`` watches something
    outside and each event it yields is an event of the asset the watcher is on. The trigger
    must be a `BaseEventTrigger`, as in Airflow. Read back from a serialized DAG, ``trigger``
    is its stored form, ``{"classpath": ..., "kwargs": ...}`` (kwargs encoded)."""

    def __init__(self, name: str, trigger: Any) -> None:
        from ..triggers.base import BaseEventTrigger, BaseTrigger

        self.name = _identifier("AssetWatcher", "name", name)
        if isinstance(trigger, dict) and {"classpath", "kwargs"} <= trigger.keys():
            self.trigger: Any = trigger
            return
        if not isinstance(trigger, BaseTrigger):
            raise DagDefinitionError(
                f"AssetWatcher {name!r}: trigger must be a BaseEventTrigger, got {trigger!r}"
            )
        if not isinstance(trigger, BaseEventTrigger):
            cls = type(trigger)
            raise DagDefinitionError(
                f"AssetWatcher {name!r}: the trigger used to watch an asset must inherit "
                f"BaseEventTrigger; {cls.__module__}.{cls.__qualname__} does not"
            )
        self.trigger = trigger
        self.encode()  # a trigger whose kwargs cannot be stored fails the DAG file here

    def encode(self) -> dict[str, Any]:
        """``{"name", "trigger": {"classpath", "kwargs"}}``, kwargs encoded as a deferral's."""
        from ..triggers.serde import NotSerializable, encode_kwargs

        if isinstance(self.trigger, dict):
            return {"name": self.name, "trigger": self.trigger}
        classpath, kwargs = self.trigger.serialize()
        try:
            encoded = encode_kwargs(kwargs, f"AssetWatcher {self.name!r} trigger kwargs")
        except NotSerializable as exc:
            raise DagDefinitionError(str(exc)) from None
        return {"name": self.name, "trigger": {"classpath": classpath, "kwargs": encoded}}

    def __repr__(self) -> str:
        return f"AssetWatcher(name={self.name!r}, trigger={self.trigger!r})"


def _watchers(label: str, watchers: object) -> list[AssetWatcher]:
    if watchers is None:
        return []
    if not isinstance(watchers, list | tuple):
        raise DagDefinitionError(f"{label} watchers must be a list of AssetWatcher objects")
    for watcher in watchers:
        if not isinstance(watcher, AssetWatcher):
            raise DagDefinitionError(
                f"{label} watchers must be AssetWatcher objects, got {watcher!r}"
            )
    names = [w.name for w in watchers]
    if len(set(names)) != len(names):
        raise DagDefinitionError(f"{label} has several watchers with the same name: {names}")
    return list(watchers)


class Asset(BaseAsset):
    """A piece of data a task produces and DAGs may be scheduled on."""

    asset_type: ClassVar[str] = "asset"

    name: str
    uri: str
    group: str
    extra: dict[str, Any]

    def __init__(
        self,
        name: str | None = None,
        uri: str | None = None,
        *,
        group: str | None = None,
        extra: dict[str, Any] | None = None,
        watchers: list[Any] | None = None,
        access_control: AssetAccessControl | None = None,
    ) -> None:
        if name is None and uri is None:
            raise DagDefinitionError("Asset() requires either 'name' or 'uri'")
        label = f"Asset {name or uri!r}"
        name = str(uri) if name is None else name
        uri = name if uri is None else uri
        self.name = _identifier(label, "name", name)
        if self.name in ("self", "context"):
            raise DagDefinitionError(f"prohibited name for asset: {self.name}")
        self.uri = sanitize_uri(_identifier(label, "uri", str(uri)))
        self.group = _identifier(
            label, "group", type(self).asset_type if group is None else group, empty_ok=True
        )
        self.extra = _extra(label, extra)
        self.watchers = _watchers(label, watchers)
        if access_control is not None and not isinstance(access_control, AssetAccessControl):
            raise DagDefinitionError(
                f"{label} access_control must be an AssetAccessControl, got {access_control!r}"
            )
        # Without teams it filters nothing, as in Airflow without multi-team mode.
        self.access_control = access_control or AssetAccessControl()

    @staticmethod
    def ref(*, name: str = "", uri: str = "") -> AssetRef:
        """A reference to an asset defined elsewhere, by its name or its URI (Airflow's
        ``Asset.ref``); resolved against the assets the DAG processor knows."""
        if name and uri:
            raise DagDefinitionError("Asset reference must be made to either name or URI, not both")
        if name:
            return AssetNameRef(name)
        if uri:
            return AssetUriRef(uri)
        raise DagDefinitionError("Asset reference expects keyword argument 'name' or 'uri'")

    @property
    def key(self) -> AssetUniqueKey:
        return AssetUniqueKey(self.name, self.uri)

    def __fspath__(self) -> str:
        return self.uri

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Asset):
            return NotImplemented
        return (self.name, self.uri, self.group, self.extra) == (
            other.name,
            other.uri,
            other.group,
            other.extra,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.uri))

    def __repr__(self) -> str:
        return f"Asset(name={self.name!r}, uri={self.uri!r}, group={self.group!r}, extra={self.extra!r})"

    def as_expression(self) -> Any:
        return {"asset": {"uri": self.uri, "name": self.name, "group": self.group}}

    def encode(self) -> dict[str, Any]:
        encoded: dict[str, Any] = {
            "__type": "asset",
            "name": self.name,
            "uri": self.uri,
            "group": self.group,
            "extra": self.extra,
        }
        if self.watchers:
            encoded["watchers"] = [watcher.encode() for watcher in self.watchers]
        return encoded

    def iter_assets(self) -> Iterator[Asset]:
        yield self

    def iter_asset_aliases(self) -> Iterator[AssetAlias]:
        return iter(())


class AssetRef(BaseAsset):
    """A reference to an asset by name or URI (made by ``Asset.ref``). In a schedule it is
    satisfied by the events of the asset with that name (URI) once one exists, and waits
    until then; in outlets, the task's success emits an event for that asset if it exists
    (a warning in the task's log otherwise), as in Airflow."""

    field: ClassVar[str]

    def __init__(self, value: str) -> None:
        setattr(self, self.field, _identifier(f"Asset.ref({self.field}=...)", self.field, value))

    @property
    def value(self) -> str:
        return str(getattr(self, self.field))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AssetRef):
            return NotImplemented
        return (type(self), self.value) == (type(other), other.value)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.value))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.field}={self.value!r})"

    def as_expression(self) -> Any:
        return {"asset_ref": {self.field: self.value}}

    def encode(self) -> dict[str, Any]:
        return {"__type": "asset_ref", self.field: self.value}

    def iter_assets(self) -> Iterator[Asset]:
        return iter(())

    def iter_asset_aliases(self) -> Iterator[AssetAlias]:
        return iter(())

    def iter_asset_refs(self) -> Iterator[AssetRef]:
        yield self


class AssetNameRef(AssetRef):
    """``Asset.ref(name=...)``."""

    field = "name"
    name: str


class AssetUriRef(AssetRef):
    """``Asset.ref(uri=...)``."""

    field = "uri"
    uri: str


class Dataset(Asset):
    """Airflow's asset kind for datasets (its group defaults to "dataset")."""

    asset_type: ClassVar[str] = "dataset"


class Model(Asset):
    """Airflow's asset kind for models (its group defaults to "model")."""

    asset_type: ClassVar[str] = "model"


class AssetAlias(BaseAsset):
    """A name for assets decided at run time: a task emits ``outlet_events[alias].add(asset)``
    and DAGs scheduled on the alias run on the events of the assets it resolved to."""

    def __init__(self, name: str, *, group: str = "asset") -> None:
        self.name = _identifier("AssetAlias", "name", name)
        self.group = _identifier(f"AssetAlias {name!r}", "group", group, empty_ok=True)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AssetAlias):
            return NotImplemented
        return (self.name, self.group) == (other.name, other.group)

    def __hash__(self) -> int:
        return hash(("alias", self.name))

    def __repr__(self) -> str:
        return f"AssetAlias(name={self.name!r}, group={self.group!r})"

    def as_expression(self) -> Any:
        return {"alias": {"name": self.name, "group": self.group}}

    def encode(self) -> dict[str, Any]:
        return {"__type": "asset_alias", "name": self.name, "group": self.group}

    def iter_assets(self) -> Iterator[Asset]:
        return iter(())

    def iter_asset_aliases(self) -> Iterator[AssetAlias]:
        yield self


class _AssetBooleanCondition(BaseAsset):
    agg_func: ClassVar[Callable[[Any], bool]]
    kind: ClassVar[str]

    def __init__(self, *objects: BaseAsset) -> None:
        if not all(isinstance(o, BaseAsset) for o in objects):
            raise DagDefinitionError(
                f"{type(self).__name__} expects assets, asset aliases or their combinations, "
                f"got {objects!r}"
            )
        self.objects = objects

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.objects == other.objects  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.kind, self.objects))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self.objects))})"

    def as_expression(self) -> Any:
        return {self.kind: [o.as_expression() for o in self.objects]}

    def encode(self) -> dict[str, Any]:
        return {"__type": f"asset_{self.kind}", "objects": [o.encode() for o in self.objects]}

    def iter_assets(self) -> Iterator[Asset]:
        for o in self.objects:
            yield from o.iter_assets()

    def iter_asset_aliases(self) -> Iterator[AssetAlias]:
        for o in self.objects:
            yield from o.iter_asset_aliases()

    def iter_asset_refs(self) -> Iterator[AssetRef]:
        for o in self.objects:
            yield from o.iter_asset_refs()

    def evaluate(self, is_true: Callable[[BaseAsset], bool]) -> bool:
        return type(self).agg_func(o.evaluate(is_true) for o in self.objects)


class AssetAny(_AssetBooleanCondition):
    """Satisfied when any of its parts is (``a | b``)."""

    agg_func = any
    kind = "any"

    def __or__(self, other: BaseAsset) -> BaseAsset:
        if not isinstance(other, BaseAsset):
            return NotImplemented
        return AssetAny(*self.objects, other)  # X | (Y | Z) is X | Y | Z


class AssetAll(_AssetBooleanCondition):
    """Satisfied when all of its parts are (``a & b``)."""

    agg_func = all
    kind = "all"

    def __and__(self, other: BaseAsset) -> BaseAsset:
        if not isinstance(other, BaseAsset):
            return NotImplemented
        return AssetAll(*self.objects, other)


def decode_condition(data: dict[str, Any]) -> BaseAsset:
    """The asset condition of an Airflow-encoded ``asset_condition`` (see ``encode``)."""
    kind = data.get("__type")
    if kind == "asset":
        return Asset(
            name=data["name"],
            uri=data["uri"],
            group=data.get("group"),
            extra=data.get("extra"),
            watchers=[AssetWatcher(w["name"], w["trigger"]) for w in data.get("watchers") or []],
        )
    if kind == "asset_ref":
        return AssetNameRef(data["name"]) if "name" in data else AssetUriRef(data["uri"])
    if kind == "asset_alias":
        return AssetAlias(data["name"], group=data.get("group", "asset"))
    if kind == "asset_all":
        return AssetAll(*(decode_condition(o) for o in data.get("objects", [])))
    if kind == "asset_any":
        return AssetAny(*(decode_condition(o) for o in data.get("objects", [])))
    raise ValueError(f"Unknown serialized asset condition {data!r}")


def asset_condition_of(value: object, dag_id: str) -> BaseAsset | None:
    """The condition a ``schedule=`` value means, if it is about assets (a list of assets is
    all of them, as in Airflow); None for any other schedule."""
    if isinstance(value, BaseAsset):
        return value
    if isinstance(value, list | tuple | set | frozenset) and value:
        if not all(isinstance(item, BaseAsset) for item in value):
            raise DagDefinitionError(
                f"DAG {dag_id!r}: all elements in 'schedule' should be assets or asset aliases, "
                f"got {value!r}"
            )
        return AssetAll(*value)
    if isinstance(value, list | tuple | set | frozenset):
        raise DagDefinitionError(
            f"DAG {dag_id!r}: schedule is an empty list of assets, which would never run; "
            "use schedule=None for a DAG that only runs when triggered"
        )
    return None


class Metadata:
    """What a task yields to set an outlet's event extra (and, with ``alias``, to emit the
    event through an alias): ``yield Metadata(asset, {"rows": 3})``."""

    def __init__(
        self, asset: Asset, extra: dict[str, Any], alias: AssetAlias | str | None = None
    ) -> None:
        if not isinstance(asset, Asset):
            raise DagDefinitionError(f"Metadata needs an Asset, got {asset!r}")
        self.asset = asset
        self.extra = _extra(f"Metadata for {asset.name!r}", extra)
        self.alias = AssetAlias(alias) if isinstance(alias, str) else alias

    def __repr__(self) -> str:
        return f"Metadata({self.asset!r}, {self.extra!r}, alias={self.alias!r})"
