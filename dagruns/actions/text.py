"""Checks every text a person sends goes through, whatever the surface (UI form, REST, CLI).

PostgreSQL stores no NUL character in text or JSON (SQLite does), so a NUL is refused before
it reaches the database, with one message everywhere.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")

NUL_MESSAGE = "NUL characters (\\u0000) are not allowed"


def contains_nul(value: Any) -> bool:
    """Whether a string, or any key or value inside a JSON-like structure, holds a NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(v) for v in value)
    return False


def nul_message(field: str) -> str:
    """The one message for a NUL in `field`."""
    return f"{field}: {NUL_MESSAGE}"


def check_no_nul(value: T, field: str, error: type[Exception] = ValueError) -> T:
    """`value` unchanged, or `error` naming `field` when it holds a NUL character."""
    if contains_nul(value):
        raise error(nul_message(field))
    return value


def first_nul_field(*sources: Any) -> str | None:
    """The name of the first field of these QueryDicts whose name or a value holds a NUL."""
    for source in sources:
        for name, values in source.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return name.replace("\x00", "\\u0000")
    return None
