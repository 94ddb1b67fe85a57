"""Loading a plugins folder as Airflow does: AirflowPlugin subclasses, their timetables; a
broken file or a plugin using what we lack is reported by name, the rest still loads."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from dagruns.sdk import airflow_compat
from dagruns.sdk.plugins import load_plugins

GOOD = """
from airflow.plugins_manager import AirflowPlugin
from airflow.timetables.base import DagRunInfo, DataInterval, Timetable

class {cls}(Timetable):
    def infer_manual_data_interval(self, *, run_after):
        return DataInterval.exact(run_after)

    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        return None

class {cls}Plugin(AirflowPlugin):
    name = "{cls}_plugin"
    timetables = [{cls}]
"""


@pytest.fixture
def folder(tmp_path: Path):
    airflow_compat.install()
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    yield plugins
    for name in [n for n in sys.modules if n.startswith("plugin_")]:
        del sys.modules[name]
    if str(plugins) in sys.path:
        sys.path.remove(str(plugins))


def add(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body))
    return path


def test_timetables_of_every_plugin_are_registered_by_class_path(folder):
    add(folder, "plugin_one.py", GOOD.format(cls="FirstTimetable"))
    add(folder, "plugin_two.py", GOOD.format(cls="SecondTimetable"))
    loaded = load_plugins(folder)
    assert sorted(loaded.timetables) == [
        "plugin_one.FirstTimetable",
        "plugin_two.SecondTimetable",
    ]
    assert [p.name for p in loaded.plugins] == ["FirstTimetable_plugin", "SecondTimetable_plugin"]
    assert loaded.errors == {}


def test_a_file_that_fails_to_import_is_reported_and_the_others_still_load(folder):
    add(folder, "plugin_good.py", GOOD.format(cls="GoodTimetable"))
    broken = add(folder, "plugin_broken.py", "import no_such_module_anywhere\n")
    loaded = load_plugins(folder)
    assert list(loaded.timetables) == ["plugin_good.GoodTimetable"]
    assert (
        "ModuleNotFoundError: No module named 'no_such_module_anywhere'"
        in loaded.errors[str(broken)]
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("macros = [len]", "plugin 'p' sets `macros`, which orchestrator does not support yet"),
        ("timetables = [int]", "plugin 'p': <class 'int'> in `timetables` is not a Timetable"),
    ],
)
def test_a_plugin_using_what_we_lack_is_refused_by_name(folder, body, problem):
    path = add(
        folder,
        "plugin_bad.py",
        f"""
        from airflow.plugins_manager import AirflowPlugin

        class Bad(AirflowPlugin):
            name = "p"
            {body}
        """,
    )
    loaded = load_plugins(folder)
    assert loaded.plugins == [] and problem in loaded.errors[str(path)]


def test_a_plugin_without_a_name_is_refused(folder):
    path = add(
        folder,
        "plugin_nameless.py",
        "from airflow.plugins_manager import AirflowPlugin\nclass Nameless(AirflowPlugin):\n    pass\n",
    )
    assert "needs a `name`" in load_plugins(folder).errors[str(path)]


def test_a_missing_folder_is_no_plugins(tmp_path):
    loaded = load_plugins(tmp_path / "absent")
    assert (loaded.plugins, loaded.timetables, loaded.errors) == ([], {}, {})
