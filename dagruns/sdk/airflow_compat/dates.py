"""Airflow 2's ``airflow.utils.dates`` names that DAG files still use."""

from __future__ import annotations

from datetime import timedelta

import pendulum

from ..schedule import CRON_PRESETS

__all__ = ["cron_presets", "days_ago"]

cron_presets = dict(CRON_PRESETS)


def days_ago(
    n: int, hour: int = 0, minute: int = 0, second: int = 0, microsecond: int = 0
) -> pendulum.DateTime:
    """Midnight (or the given time) UTC of ``n`` days ago, as Airflow 2 defined it.

    Airflow removed it in 3.0 because a start date that moves every parse is a trap; it is
    kept here so Airflow 2 DAG files import, with Airflow 2's meaning.
    """
    today = pendulum.now(pendulum.UTC).replace(
        hour=hour, minute=minute, second=second, microsecond=microsecond
    )
    return today - timedelta(days=n)
