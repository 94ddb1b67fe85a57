"""``airflow.utils.timezone`` / ``airflow.sdk.timezone`` and ``airflow.utils.dates`` helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pendulum
import pytest

pytestmark = pytest.mark.usefixtures("shim")


def test_timezone_helpers_follow_airflows_rules():
    from airflow.utils import timezone

    assert timezone.datetime(2024, 1, 1).tzinfo is not None
    assert timezone.utcnow().utcoffset() == timedelta(0)
    aware = timezone.make_aware(datetime(2024, 7, 1, 12), "Europe/Amsterdam")
    assert aware.utcoffset() == timedelta(hours=2)
    assert timezone.make_naive(aware, "UTC") == datetime(2024, 7, 1, 10)
    assert timezone.convert_to_utc(datetime(2024, 1, 1)) == datetime(2024, 1, 1, tzinfo=UTC)
    assert timezone.parse("2024-01-01T10:00:00+01:00") == datetime(2024, 1, 1, 9, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        timezone.make_aware(aware)


def test_airflow_3_sdk_timezone_is_the_same_module_of_helpers():
    from airflow.sdk import timezone

    assert timezone.coerce_datetime(datetime(2024, 1, 1)) == pendulum.datetime(2024, 1, 1)


def test_days_ago_is_midnight_utc_n_days_back():
    from airflow.utils.dates import days_ago

    value = days_ago(2)
    today = pendulum.now("UTC").start_of("day")
    assert value in (today - timedelta(days=2), today - timedelta(days=1))  # midnight may pass
    assert (value.hour, value.minute, value.utcoffset()) == (0, 0, timedelta(0))
