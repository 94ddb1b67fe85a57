"""Checks on what people type into the dashboard's forms, shared by the pages.

PostgreSQL stores no NUL character in text or JSON (SQLite does): a value carrying one would
fail in the database (a 500) on one backend and be stored on the other. The REST API refuses
it with the same message (dagruns.api.rest.auth.RejectNul).
"""

from __future__ import annotations

from typing import Any

NUL_MESSAGE = "NUL characters (\\u0000) are not allowed"


def has_nul(value: Any) -> bool:
    """True when a string anywhere in a JSON-like value (keys included) holds a NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(item) for item in value)
    return False


def first_nul_field(*sources: Any) -> str | None:
    """The name of the first field of these QueryDicts whose name or a value holds a NUL."""
    for source in sources:
        for name, values in source.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return name.replace("\x00", "\\u0000")
    return None
