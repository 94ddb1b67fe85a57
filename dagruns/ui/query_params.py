"""Reading a page's numeric query parameters: a value that is not a whole number in range is
refused with a message naming the parameter and its range, never silently replaced."""

from __future__ import annotations


class BadParam(ValueError):
    """A query parameter the page cannot use; the message names it."""


def int_param(params, name: str, default: int, low: int, high: int) -> int:
    text = (params.get(name) or "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadParam(f"{name}: {text!r} is not a whole number") from None
    if not low <= value <= high:
        raise BadParam(f"{name}: {value} is out of range ({low} to {high})")
    return value
