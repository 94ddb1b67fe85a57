"""XCom values that are not plain JSON, in Airflow's serde form, so tasks can hand them on as
in Airflow: an ``ObjectStoragePath`` travels as ``{"__classname__":
"airflow.sdk.io.path.ObjectStoragePath", "__version__": 1, "__data__": path.serialize()}``
(what Airflow stores) and comes back as the path. Every other value stays strict JSON.

`encode` runs on what a task pushes, `decode` on what it pulls (scheduler/runner/context.py).
Neither imports fsspec: a process that never made a path has none to encode, and the path
module is imported only when a pulled value holds one.
"""

from __future__ import annotations

import sys
from typing import Any

CLASSNAME = "__classname__"
VERSION = "__version__"
DATA = "__data__"
OBJECT_STORAGE_PATH = "airflow.sdk.io.path.ObjectStoragePath"
_PATH_MODULE = "dagruns.sdk.io.path"


def encode(value: Any) -> Any:
    """`value` with every ObjectStoragePath in it (in lists, tuples, dict values) encoded."""
    module = sys.modules.get(_PATH_MODULE)
    if module is None:
        return value
    path_class = module.ObjectStoragePath

    def walk(item: Any) -> Any:
        if isinstance(item, path_class):
            return {
                CLASSNAME: OBJECT_STORAGE_PATH,
                VERSION: item.__version__,
                DATA: item.serialize(),
            }
        if isinstance(item, list | tuple):
            return [walk(element) for element in item]
        if isinstance(item, dict):
            return {key: walk(element) for key, element in item.items()}
        return item

    return walk(value)


def decode(value: Any) -> Any:
    """A pulled value with every encoded ObjectStoragePath made a path again."""
    if isinstance(value, dict):
        if value.get(CLASSNAME) == OBJECT_STORAGE_PATH and set(value) == {CLASSNAME, VERSION, DATA}:
            from .io.path import ObjectStoragePath

            return ObjectStoragePath.deserialize(dict(value[DATA]), int(value[VERSION]))
        return {key: decode(element) for key, element in value.items()}
    if isinstance(value, list):
        return [decode(element) for element in value]
    return value
