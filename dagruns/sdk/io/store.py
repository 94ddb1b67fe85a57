"""Attached stores: a filesystem per scheme and connection, reused by every path on it
(Airflow's ``airflow.sdk.io.store.attach``). ``attach(protocol, fs=...)`` makes paths of that
scheme (and connection) use the given fsspec filesystem, as in Airflow."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from fsspec import AbstractFileSystem

from .fs import Properties, get_fs


class ObjectStore:
    """A filesystem or object store; made by `attach`."""

    def __init__(
        self,
        protocol: str,
        conn_id: str | None,
        fs: AbstractFileSystem | None = None,
        storage_options: Properties | None = None,
    ) -> None:
        self.protocol = protocol
        self.conn_id = conn_id
        self.storage_options = storage_options
        if fs is not None:
            self.fs = fs  # takes the cached_property's place

    @cached_property
    def fs(self) -> AbstractFileSystem:
        return get_fs(self.protocol, self.conn_id, self.storage_options)

    def __str__(self) -> str:
        return f"{self.protocol}-{self.conn_id}" if self.conn_id else self.protocol

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ObjectStore):
            return NotImplemented
        return self.conn_id == other.conn_id and self.fs == other.fs

    def __hash__(self) -> int:
        return hash((self.protocol, self.conn_id))


_STORES: dict[str, ObjectStore] = {}


def attach(
    protocol: str | None = None,
    conn_id: str | None = None,
    alias: str | None = None,
    encryption_type: str | None = "",
    fs: AbstractFileSystem | None = None,
    **kwargs: Any,
) -> ObjectStore:
    """The store of `protocol` and `conn_id` (or of `alias`), made on first use."""
    if encryption_type:
        raise ValueError(
            f"attach(encryption_type={encryption_type!r}) is not supported by orchestrator"
        )
    if alias and alias in _STORES:
        return _reuse(_STORES[alias], alias, fs, kwargs)
    if not protocol:
        if alias:
            raise ValueError(f"No registered store with alias: {alias}")
        raise ValueError("No protocol specified and no alias provided")
    alias = alias or (f"{protocol}-{conn_id}" if conn_id else protocol)
    if alias in _STORES:
        return _reuse(_STORES[alias], alias, fs, kwargs)
    _STORES[alias] = ObjectStore(protocol, conn_id, fs=fs, **kwargs)
    return _STORES[alias]


def _reuse(
    store: ObjectStore, alias: str, fs: AbstractFileSystem | None, kwargs: dict[str, Any]
) -> ObjectStore:
    """The store already attached as `alias`, given the filesystem or options of this call.

    A store that has no filesystem yet (its scheme has none here, and no attach gave one) takes
    them: paths made before this call then use it. One that has a filesystem keeps it, as in
    Airflow, but a different `fs` or options are refused rather than dropped without a word."""
    options = kwargs.get("storage_options")
    if "fs" not in store.__dict__:
        if fs is not None:
            store.fs = fs
        elif options is not None:
            store.storage_options = options
        return store
    if fs is not None and fs is not store.fs:
        raise ValueError(
            f"A store is already attached as {alias!r} with another filesystem; attach this one "
            "under another alias (attach(..., alias=...))"
        )
    if options is not None and options != store.storage_options:
        raise ValueError(
            f"A store is already attached as {alias!r} with other storage options "
            f"({store.storage_options!r}); attach these under another alias"
        )
    return store
