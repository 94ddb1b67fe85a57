"""The plugins of this process: loaded once from ORCH_PLUGINS_FOLDER, as Airflow loads its
plugins once at start-up (restart the scheduler and the DAG processor after changing one).

Plugins are user code that imports ``airflow...``; the Airflow import shim is installed first
(`dagruns.sdk.airflow_compat`), so that processes that schedule custom timetables can import
their classes.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

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


# Airflow's PluginResponse fields (3.0's, plus 3.1's `external_views` and `react_apps`, which
# Airflow's own client requires), by how each is shown: names (a class or function's
# `module.qualname`, a listener module's name) or the dicts the plugin declared.
NAMED_ATTRIBUTES = (
    "macros",
    "flask_blueprints",
    "global_operator_extra_links",
    "operator_extra_links",
    "listeners",
    "timetables",
)
DICT_ATTRIBUTES = (
    "fastapi_apps",
    "fastapi_root_middlewares",
    "appbuilder_views",
    "appbuilder_menu_items",
    "react_apps",
)


def _qualname(value: object) -> str:
    if isinstance(value, ModuleType):
        return value.__name__
    if isinstance(value, type) or callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', value)}"
    return str(value)


def plugin_source(plugin: type, folder: str | Path) -> str:
    """Where a plugin came from, as Airflow writes it: `$PLUGINS_FOLDER/<relative path>`."""
    module = sys.modules.get(plugin.__module__)
    path = Path(getattr(module, "__file__", "") or "")
    try:
        return f"$PLUGINS_FOLDER/{path.resolve().relative_to(Path(folder).resolve())}"
    except ValueError:
        return str(path)


def plugin_info() -> list[dict[str, Any]]:
    """Each loaded plugin in Airflow's `GET /api/v2/plugins` shape, by name."""
    folder = settings.ORCH.plugins_folder
    infos = []
    for plugin in loaded_plugins().plugins:
        info: dict[str, Any] = {"name": plugin.name, "source": plugin_source(plugin, folder)}
        for attribute in NAMED_ATTRIBUTES:
            info[attribute] = [_qualname(v) for v in getattr(plugin, attribute, None) or []]
        for attribute in DICT_ATTRIBUTES:
            info[attribute] = [dict(v) for v in getattr(plugin, attribute, None) or []]
        # Airflow 3.1 lists the menu items among the external views too.
        own_views = [dict(v) for v in getattr(plugin, "external_views", None) or []]
        info["external_views"] = own_views + info["appbuilder_menu_items"]
        infos.append(info)
    return sorted(infos, key=lambda info: info["name"])
