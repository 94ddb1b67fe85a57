"""A DAG's stored schedule read back with this process's plugins: what fails names the DAG,
the timetable and the plugin files that did not load."""

from __future__ import annotations

import pytest

from dagruns.domain.plugins import plugin_timetables
from dagruns.domain.schedule_info import ScheduleError, schedule_fields, timetable_for
from tests.dagruns.sdk.timetables.timetable_helpers import utc

PLUGIN = """
from airflow.plugins_manager import AirflowPlugin
from airflow.timetables.base import DagRunInfo, DataInterval, Timetable

class Hourly{n}(Timetable):
    def infer_manual_data_interval(self, *, run_after):
        return DataInterval.exact(run_after)

    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        start = restriction.earliest if last_automated_data_interval is None else last_automated_data_interval.end
        return DagRunInfo.interval(start=start, end=start.add(hours=1))

class Plugin{n}(AirflowPlugin):
    name = "hourly{n}"
    timetables = [Hourly{n}]
"""


def serialized(class_path: str) -> dict:
    return {
        "dag_id": "d",
        "schedule": {"type": "timetable", "class": class_path, "data": {}},
        "timezone": "UTC",
        "start_date": utc(2024, 1, 1).isoformat(),
        "catchup": True,
    }


@pytest.fixture
def plugins(orch_settings, tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    orch_settings.plugins_folder = folder
    return folder


def test_a_registered_custom_timetable_gives_the_next_run_and_its_summary(plugins):
    (plugins / "sched_info_ok.py").write_text(PLUGIN.format(n=1))
    fields = schedule_fields(serialized("sched_info_ok.Hourly1"), utc(2024, 1, 2), None)
    assert fields["timetable_summary"] == "Hourly1"
    assert (fields["next_dagrun"], fields["next_dagrun_create_after"]) == (
        utc(2024, 1, 1),
        utc(2024, 1, 1, 1),
    )


def test_an_unregistered_class_names_the_dag_and_the_plugin_files_that_failed(plugins):
    broken = plugins / "sched_info_broken.py"
    broken.write_text("raise RuntimeError('half-written plugin')\n")
    with pytest.raises(ScheduleError) as info:
        timetable_for(serialized("sched_info_broken.Hourly2"))
    message = str(info.value)
    assert "DAG 'd': Timetable class 'sched_info_broken.Hourly2' is not registered" in message
    assert f"{broken}: RuntimeError: half-written plugin" in message


def test_without_a_plugins_folder_there_are_no_custom_timetables(orch_settings, tmp_path):
    orch_settings.plugins_folder = tmp_path / "absent"
    assert plugin_timetables() == {}
