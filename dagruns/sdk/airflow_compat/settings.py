"""Airflow's ``airflow.settings`` for DAG code: the folders and the default timezone, read from
``conf`` (so from orchestrator's settings) when asked. Its database session and engine are not
offered: task code never reaches the database here (nor in Airflow 3)."""

from __future__ import annotations

import os
from typing import Any

from ..configuration import conf, get_airflow_home
from .timezone import utc


def __getattr__(name: str) -> Any:
    if name == "DAGS_FOLDER":
        return os.path.expanduser(conf.get_mandatory_value("core", "dags_folder"))
    if name == "PLUGINS_FOLDER":
        return conf.get("core", "plugins_folder")
    if name == "AIRFLOW_HOME":
        return get_airflow_home()
    if name == "TIMEZONE":
        # [core] default_timezone is fixed to utc here (see dagruns/sdk/configuration/keys.py).
        return utc
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
