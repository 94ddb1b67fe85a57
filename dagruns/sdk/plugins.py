"""Plugins, as Airflow users ship them: ``.py`` files in the plugins folder
(``ORCH_PLUGINS_FOLDER``) defining `AirflowPlugin` subclasses
(importable as ``airflow.plugins_manager.AirflowPlugin``).

Of Airflow's plugin attributes we implement ``timetables`` (custom `Timetable` classes the
scheduler may rebuild from a serialized DAG). A plugin that fills any other attribute is refused
with an error naming it, rather than loaded with part of it silently ignored.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .timetables.base import Timetable
from .timetables.registry import class_path

logger = logging.getLogger(__name__)

# Airflow's other AirflowPlugin attributes (Airflow 3.0's plugins_manager): not supported yet.
UNSUPPORTED_ATTRIBUTES = (
    "hooks",
    "executors",
    "macros",
    "admin_views",
    "flask_blueprints",
    "fastapi_apps",
    "fastapi_root_middlewares",
    "external_views",
    "react_apps",
    "menu_links",
    "appbuilder_views",
    "appbuilder_menu_items",
    "global_operator_extra_links",
    "operator_extra_links",
    "listeners",
    "priority_weight_strategies",
)


class AirflowPluginException(Exception):
    """A plugin that cannot be used; the message names the plugin and the problem."""


class AirflowPlugin:
    """Subclass it in a file of the plugins folder; set ``name`` and ``timetables``."""

    name: ClassVar[str | None] = None
    timetables: ClassVar[list[type[Timetable]]] = []

    @classmethod
    def validate(cls) -> None:
        if not cls.name:
            raise AirflowPluginException(f"plugin class {cls.__qualname__} needs a `name`")
        for attribute in UNSUPPORTED_ATTRIBUTES:
            if getattr(cls, attribute, None):
                raise AirflowPluginException(
                    f"plugin {cls.name!r} sets `{attribute}`, which orchestrator does not "
                    "support yet (only `timetables` is)"
                )
        for timetable in cls.timetables:
            if not (isinstance(timetable, type) and issubclass(timetable, Timetable)):
                raise AirflowPluginException(
                    f"plugin {cls.name!r}: {timetable!r} in `timetables` is not a Timetable "
                    "subclass"
                )

    @classmethod
    def on_load(cls, *args: Any, **kwargs: Any) -> None:
        """Called once the plugin is loaded (Airflow's hook); does nothing by default."""


@dataclass
class LoadedPlugins:
    """What one plugins folder provided, and what went wrong (file -> error)."""

    plugins: list[type[AirflowPlugin]] = field(default_factory=list)
    timetables: dict[str, type[Timetable]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def load_plugins(folder: str | Path | None) -> LoadedPlugins:
    """Import every ``*.py`` file under ``folder`` (as a module named after the file, with the
    folder on sys.path, as Airflow does) and collect its plugins. A file that fails to import
    or a plugin that is refused is recorded in ``errors`` and logged; the others still load."""
    loaded = LoadedPlugins()
    if folder is None or not Path(folder).is_dir():
        return loaded
    root = str(Path(folder).resolve())
    if root not in sys.path:
        sys.path.append(root)
    for path in sorted(Path(root).rglob("*.py")):
        if any(part.startswith(".") or part == "__pycache__" for part in path.parts):
            continue
        try:
            module = _import(path)
        except Exception as exc:
            _record(loaded, path, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
            continue
        for value in list(vars(module).values()):
            if (
                isinstance(value, type)
                and issubclass(value, AirflowPlugin)
                and value is not AirflowPlugin
                and value.__module__ == module.__name__
            ):
                try:
                    value.validate()
                    value.on_load()
                except Exception as exc:
                    _record(loaded, path, f"{type(exc).__name__}: {exc}")
                    continue
                loaded.plugins.append(value)
                for timetable in value.timetables:
                    loaded.timetables[class_path(timetable)] = timetable
    return loaded


def _import(path: Path):
    name = path.stem
    existing = sys.modules.get(name)
    if existing is not None and getattr(existing, "__file__", None) == str(path):
        return existing  # already imported (a DAG file imported its timetable from here)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _record(loaded: LoadedPlugins, path: Path, error: str) -> None:
    loaded.errors[str(path)] = error
    logger.error("Failed to load plugin file %s: %s", path, error.splitlines()[0])
