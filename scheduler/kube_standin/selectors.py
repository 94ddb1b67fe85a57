"""Label and field selectors as the API server parses them (`labelSelector`, `fieldSelector`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from scheduler.kube_standin.statuses import bad_request

Predicate = Callable[[dict[str, Any]], bool]

_SET_EXPR = re.compile(r"^\s*(!?)([A-Za-z0-9./_-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_EXPR = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)\s*$")
_EXISTS_EXPR = re.compile(r"^\s*(!?)([A-Za-z0-9./_-]+)\s*$")

# What the API server supports for pods (and the generic metadata fields for every kind).
_POD_FIELDS: dict[str, Callable[[dict[str, Any]], str]] = {
    "metadata.name": lambda o: o["metadata"].get("name", ""),
    "metadata.namespace": lambda o: o["metadata"].get("namespace", ""),
    "spec.nodeName": lambda o: o.get("spec", {}).get("nodeName", ""),
    "spec.restartPolicy": lambda o: o.get("spec", {}).get("restartPolicy", ""),
    "spec.schedulerName": lambda o: o.get("spec", {}).get("schedulerName", ""),
    "spec.serviceAccountName": lambda o: o.get("spec", {}).get("serviceAccountName", ""),
    "status.phase": lambda o: o.get("status", {}).get("phase", ""),
    "status.podIP": lambda o: o.get("status", {}).get("podIP", ""),
}
_GENERIC_FIELDS = {k: v for k, v in _POD_FIELDS.items() if k.startswith("metadata.")}
_SECRET_FIELDS = {**_GENERIC_FIELDS, "type": lambda o: o.get("type", "")}


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside `( … )` of a set expression."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def label_selector(text: str | None) -> Predicate:
    if not text:
        return lambda _obj: True
    checks: list[Callable[[Mapping[str, str]], bool]] = []
    for part in _split_top_level(text):
        if m := _SET_EXPR.match(part):
            if m.group(1):
                raise bad_request(f"unable to parse requirement: {part!r}")
            key, op = m.group(2), m.group(3)
            values = {v.strip() for v in m.group(4).split(",") if v.strip()}
            if op == "in":
                checks.append(partial(_label_in, key, values, True))
            else:
                checks.append(partial(_label_in, key, values, False))
        elif m := _EQ_EXPR.match(part):
            key, op, value = m.groups()
            if op == "!=":
                checks.append(partial(_label_in, key, {value}, False))
            else:
                checks.append(partial(_label_in, key, {value}, True))
        elif m := _EXISTS_EXPR.match(part):
            negate, key = m.group(1), m.group(2)
            if negate:
                checks.append(partial(_label_exists, key, False))
            else:
                checks.append(partial(_label_exists, key, True))
        else:
            raise bad_request(f"unable to parse requirement: found {part!r}")

    def matches(obj: dict[str, Any]) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(check(labels) for check in checks)

    return matches


def _label_in(key: str, values: set[str], wanted: bool, labels: Mapping[str, str]) -> bool:
    return (labels.get(key) in values) is wanted


def _label_exists(key: str, wanted: bool, labels: Mapping[str, str]) -> bool:
    return (key in labels) is wanted


def _field_is(
    getter: Callable[[dict[str, Any]], Any], value: str, wanted: bool, obj: dict[str, Any]
) -> bool:
    return (getter(obj) == value) is wanted


def field_selector(text: str | None, plural: str) -> Predicate:
    if not text:
        return lambda _obj: True
    fields = {"pods": _POD_FIELDS, "secrets": _SECRET_FIELDS}.get(plural, _GENERIC_FIELDS)
    checks: list[Predicate] = []
    for part in _split_top_level(text):
        m = _EQ_EXPR.match(part)
        if not m:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        key, op, value = m.groups()
        if key not in fields:
            raise bad_request(f"field label not supported: {key}")
        getter = fields[key]
        if op == "!=":
            checks.append(partial(_field_is, getter, value, False))
        else:
            checks.append(partial(_field_is, getter, value, True))
    return lambda obj: all(check(obj) for check in checks)
