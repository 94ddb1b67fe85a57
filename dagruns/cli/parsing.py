"""Parsing CLI arguments into values, with errors that name the argument."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone


def parse_conf(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CommandError(f"--conf is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise CommandError("--conf must be a JSON object, e.g. '{\"key\": 1}'")
    return value


def parse_date(text: str | None, name: str = "logical date") -> datetime | None:
    """ISO-8601 date or date-time; naive values are UTC, as in Airflow."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"{name} {text!r} is not an ISO-8601 date (e.g. 2024-01-31)") from None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value
