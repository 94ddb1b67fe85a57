"""The plugins of this process: loaded once from ORCH_PLUGINS_FOLDER, as Airflow loads its
plugins once at start-up (restart the scheduler and the DAG processor after changing one).

Plugins are user code that imports ``airflow...``; the Airflow import shim is installed first
(`dagruns.sdk.airflow_compat`), so that processes that schedule custom timetables can import
their classes.
"""

from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings

from dagruns.sdk import airflow_compat
from dagruns.sdk.plugins import LoadedPlugins, load_plugins
from dagruns.sdk.timetables import Timetable


@functools.cache
def _load(folder: str) -> LoadedPlugins:
    if not Path(folder).is_dir():
        return LoadedPlugins()  # no plugins: leave the `airflow` namespace alone
    airflow_compat.install()
    return load_plugins(folder)


def loaded_plugins() -> LoadedPlugins:
    return _load(str(settings.ORCH.plugins_folder))


def plugin_timetables() -> dict[str, type[Timetable]]:
    """Custom timetable classes by their class path (``module.Class``)."""
    return dict(loaded_plugins().timetables)


def plugin_errors() -> dict[str, str]:
    """Plugin files that failed to load, with the error (for an unregistered-class message)."""
    return dict(loaded_plugins().errors)
