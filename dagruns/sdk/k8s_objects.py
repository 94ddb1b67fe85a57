"""Kubernetes client objects in DAG files (`executor_config={"pod_override": k8s.V1Pod(...)}`),
serialized without importing the `kubernetes` package (the SDK stays pure Python: DAG authors
import `kubernetes.client.models` themselves).

The client's models are generated OpenAPI classes: each has `openapi_types` (python attribute ->
type) and `attribute_map` (python attribute -> JSON key). An object with both is written as the
Kubernetes JSON the API server takes (camelCase keys, no nulls: what the client's
`ApiClient.sanitize_for_serialization` gives), tagged the way Airflow 3 tags a pod in
`executor_config`: `{"__type": "k8s.V1Pod", "__var": {...}}`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

K8S_TYPE_PREFIX = "k8s."


def is_k8s_object(value: Any) -> bool:
    cls = type(value)
    return isinstance(getattr(cls, "openapi_types", None), dict) and isinstance(
        getattr(cls, "attribute_map", None), dict
    )


def serialize_k8s_object(value: Any) -> dict[str, Any]:
    """`{"__type": "k8s.<Class>", "__var": <the object's Kubernetes JSON>}`."""
    return {"__type": K8S_TYPE_PREFIX + type(value).__name__, "__var": _to_json(value)}


def _to_json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _to_json(item) for key, item in value.items()}
    if is_k8s_object(value):
        attribute_map = type(value).attribute_map
        out = {}
        for attribute in type(value).openapi_types:
            item = getattr(value, attribute, None)
            if item is not None:
                out[attribute_map[attribute]] = _to_json(item)
        return out
    raise TypeError(f"cannot serialize {type(value).__name__} inside a Kubernetes object")
