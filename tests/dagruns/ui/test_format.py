"""Recorded numbers in human units (seconds and bytes by key, everything else as it is), and
dates in one format, in the viewer's zone."""

from __future__ import annotations

from datetime import UTC, datetime

from django.template import Context, Template
from django.utils import timezone

from dagruns.ui.format import (
    attribute,
    details,
    duration,
    full_date,
    size,
    time_html,
    when,
)
from dagruns.ui.timezones import zone_named


def test_durations_and_sizes_read_as_people_write_them():
    assert duration(0.074735) == "75 ms"
    assert duration(3.21) == "3.2 s"
    assert size(27590656) == "26.3 MiB"


def test_details_humanise_seconds_and_bytes_and_keep_the_rest():
    extra = {"peak_memory": 27590656, "duration": 0.074735, "state": "failed", "cpu_time": None}
    assert details(extra) == "cpu_time null · duration 75 ms · peak_memory 26.3 MiB · state failed"
    assert details({"map_indexes": [1, 2], "dry": True}) == "dry true · map_indexes [1, 2]"
    assert details(None) == "" and details({}) == ""


def test_the_template_filter_is_the_same_formatting():
    html = Template("{% load orch %}{{ extra|details }}").render(
        Context({"extra": {"duration": 0.074735, "peak_memory": 27590656}})
    )
    assert html == "duration 75 ms · peak_memory 26.3 MiB"


def test_a_date_is_shown_in_the_viewer_zone_with_its_abbreviation():
    moment = datetime(2026, 11, 30, 0, 33, 18, tzinfo=UTC)
    assert when(moment) == "2026-11-30 00:33:18 UTC"  # no zone active: UTC
    assert when(moment, zone_named("America/Sao_Paulo")) == "2026-11-29 21:33:18 -03"
    with timezone.override(zone_named("Europe/Paris")):
        assert when(moment) == "2026-11-30 01:33:18 CET"
        assert str(time_html(moment)) == (
            '<time datetime="2026-11-30T00:33:18Z" title="Monday 2026-11-30 01:33:18 CET '
            '(UTC+01:00, Europe/Paris) · 2026-11-30 00:33:18 UTC">2026-11-30 01:33:18 CET</time>'
        )
        assert ">11-30 01:33:18</time>" in time_html(moment, short=True)
    # In UTC the hover names the zone without repeating the same moment.
    assert 'title="Monday 2026-11-30 00:33:18 UTC (UTC+00:00, UTC)"' in time_html(moment)
    assert when(None) == "" and time_html(None) == ""


def test_summer_time_changes_the_abbreviation_and_offset():
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert full_date(summer, zone_named("America/New_York")).startswith(
        "Wednesday 2026-07-01 08:00:00 EDT (UTC-04:00, America/New_York)"
    )


def test_recorded_dates_in_details_are_shown_like_every_other_date():
    extra = {"reschedule_date": "2026-11-30T00:33:18+00:00", "note": "2026-11-30 is a day"}
    with timezone.override(zone_named("Asia/Kolkata")):
        assert (
            details(extra) == "note 2026-11-30 is a day · reschedule_date 2026-11-30 06:03:18 IST"
        )


def test_the_filters_give_a_time_element_and_plain_text_for_attributes():
    moment = datetime(2026, 11, 30, 0, 33, 18, tzinfo=UTC)
    html = Template('{% load orch %}<a title="{{ d|when_text }}">{{ d|when }}</a>').render(
        Context({"d": moment})
    )
    assert html.startswith(
        '<a title="2026-11-30 00:33:18 UTC"><time datetime="2026-11-30T00:33:18Z"'
    )


def test_a_task_attribute_is_a_date_element_or_in_human_units():
    moment = datetime(2026, 11, 30, 0, 33, 18, tzinfo=UTC)
    assert str(attribute("start_date", moment)).startswith('<time datetime="2026-11-30T00:33:18Z"')
    assert attribute("duration", 0.074735) == "75 ms"
    assert attribute("peak_memory", 27590656) == "26.3 MiB"
    assert attribute("try_number", 3) == 3 and attribute("pid", None) is None
