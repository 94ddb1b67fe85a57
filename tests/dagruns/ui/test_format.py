"""Recorded numbers in human units: seconds and bytes by key, everything else as it is."""

from __future__ import annotations

from django.template import Context, Template

from dagruns.ui.format import details, duration, size


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
