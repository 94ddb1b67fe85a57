"""Validation of dag ids, task ids and task group ids.

The ids end up in URLs, log paths and database keys, so they are restricted to a small
alphabet. Group ids may not contain dots because a dot separates a group prefix from the
task label (``group.task``), exactly as in Airflow.
"""

from __future__ import annotations

import re

from .exceptions import DagDefinitionError

MAX_KEY_LENGTH = 250
_KEY_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
_GROUP_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")


def validate_key(value: object, kind: str = "key") -> str:
    """Return ``value`` if it is a valid dag/task id, else raise DagDefinitionError."""
    return _validate(value, kind, _KEY_RE, "alphanumeric characters, dashes, dots and underscores")


def validate_group_key(value: object, kind: str = "group_id") -> str:
    """Return ``value`` if it is a valid task group id (no dots), else raise."""
    return _validate(value, kind, _GROUP_KEY_RE, "alphanumeric characters, dashes and underscores")


def _validate(value: object, kind: str, pattern: re.Pattern[str], alphabet: str) -> str:
    if not isinstance(value, str):
        raise DagDefinitionError(
            f"The {kind} must be a string, got {type(value).__name__}: {value!r}"
        )
    if len(value) > MAX_KEY_LENGTH:
        raise DagDefinitionError(
            f"The {kind} {value[:40]!r}... is {len(value)} characters long; "
            f"it must be at most {MAX_KEY_LENGTH}"
        )
    if not pattern.match(value):
        raise DagDefinitionError(f"The {kind} {value!r} has to be made of {alphabet} exclusively")
    return value
