"""The filesystems ObjectStoragePath may use, by URL scheme (Airflow's ``airflow.sdk.io.fs``).

Airflow builds in ``file`` and ``local`` and gets every other scheme from provider packages
(``s3`` from the Amazon provider, ``gs`` from Google's ...), each turning an Airflow connection
into the filesystem's credentials. We ship no provider packages, so ``file`` and ``local`` are
the filesystems here; any other scheme is refused with Airflow's message, naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

Properties = dict[str, Any]


def _local(conn_id: str | None, storage_options: Properties) -> AbstractFileSystem:
    # As in Airflow, a local path's connection is not used: the worker's own disk needs none.
    return LocalFileSystem(**storage_options)


FILESYSTEMS: dict[str, Callable[[str | None, Properties], AbstractFileSystem]] = {
    "file": _local,
    "local": _local,
}


class NoFilesystemForScheme(ValueError):
    """A scheme without a filesystem here (Airflow raises a ValueError with this message)."""

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme
        super().__init__(
            f"No filesystem registered for scheme {scheme} (orchestrator has the local "
            "filesystem only: file:// and local paths; it ships no provider packages, whose "
            "filesystems Airflow uses for other schemes)"
        )


def get_fs(
    scheme: str, conn_id: str | None = None, storage_options: Properties | None = None
) -> AbstractFileSystem:
    """The filesystem for `scheme`, with `conn_id`'s credentials where the scheme uses any."""
    try:
        make = FILESYSTEMS[scheme]
    except KeyError:
        raise NoFilesystemForScheme(scheme) from None
    return make(conn_id, dict(storage_options or {}))


def has_fs(scheme: str) -> bool:
    return scheme in FILESYSTEMS
