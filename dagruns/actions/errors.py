"""The refusal every action's check raises for bad input, so a surface maps them all at once
(REST: 400 with the message; UI: the message on the form; CLI: a CommandError)."""

from __future__ import annotations


class ActionRefused(ValueError):
    """The input cannot be acted on; the message names the field or value and why."""
