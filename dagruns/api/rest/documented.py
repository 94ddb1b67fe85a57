"""Query parameters whose words are fixed per operation (`order_by`, `update_mask`, `state`,
`run_type`), published as enums in the OpenAPI document.

The routes refuse any other word with a 400; without the enum the document would promise that
any string is accepted. Route modules register their words at import time; `apply()` writes
them into the generated document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

_CHOICES: dict[tuple[str, str], list[str]] = {}


def choices(operation_id: str, parameter: str, values: Iterable[str]) -> None:
    """Publish the words `parameter` of `operation_id` takes."""
    _CHOICES[(operation_id, parameter)] = [str(v) for v in values]


def ordering(allowed: Mapping[str, str]) -> list[str]:
    """The `order_by` words for an `allowed` map: each name, ascending or `-` descending."""
    names = sorted(allowed)
    return [*names, *(f"-{name}" for name in names)]


def _string_schema(schema: dict[str, Any]) -> dict[str, Any] | None:
    """Where the enum goes: the items of an array, or the string itself (in an anyOf too)."""
    if schema.get("type") == "array":
        return schema.get("items")
    if schema.get("type") == "string":
        return schema
    for option in schema.get("anyOf", []):
        found = _string_schema(option)
        if found is not None:
            return found
    return None


def apply(document: dict[str, Any]) -> dict[str, Any]:
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                values = _CHOICES.get((operation.get("operationId", ""), parameter["name"]))
                target = _string_schema(parameter.get("schema", {})) if values else None
                if target is not None:
                    target["enum"] = values
    return document
