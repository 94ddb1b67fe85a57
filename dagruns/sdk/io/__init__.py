"""Object storage for DAG code: Airflow's ``airflow.sdk.io`` (``ObjectStoragePath``,
``attach``), over fsspec and universal-pathlib as Airflow builds it."""

from .fs import NoFilesystemForScheme, Properties, get_fs, has_fs
from .path import ObjectStoragePath
from .store import ObjectStore, attach

__all__ = [
    "NoFilesystemForScheme",
    "ObjectStore",
    "ObjectStoragePath",
    "Properties",
    "attach",
    "get_fs",
    "has_fs",
]
