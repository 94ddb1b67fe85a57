"""Query parameters that take one of a fixed set of words (`state`, `run_type`): a value
outside the set is a 400 naming the parameter and the words it takes, never a silently
empty list. Airflow's message, with the house's 400 for an unknown enum value."""

from __future__ import annotations

from collections.abc import Iterable

from dagruns.api.rest.errors import bad_request


def check_choices(name: str, values: Iterable[str | None], allowed: Iterable[str]) -> None:
    """Raise a 400 if any of `values` (a repeatable query parameter `name`) is not allowed."""
    choices = list(allowed)
    unknown = [v for v in values if v is not None and v not in choices]
    if unknown:
        raise bad_request(
            f"Invalid value for {name}: {unknown[0]!r}. Valid values are {', '.join(choices)}"
        )
