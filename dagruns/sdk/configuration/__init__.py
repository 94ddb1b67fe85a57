"""Airflow's configuration object for DAG code: ``from airflow.configuration import conf``
(also ``airflow.sdk.conf``), answered from orchestrator's own settings (see `parser`, `keys`)."""

from __future__ import annotations

from typing import Any

from ..exceptions import AirflowConfigException
from .parser import AirflowConfigParser, get_airflow_home

conf = AirflowConfigParser()

__all__ = ["AirflowConfigException", "AirflowConfigParser", "conf", "get_airflow_home"]


def __getattr__(name: str) -> Any:
    # Airflow computes AIRFLOW_HOME when its module is imported; here it follows ORCH_HOME of
    # the moment, since this module may be imported before a test or a runner sets it.
    if name == "AIRFLOW_HOME":
        return get_airflow_home()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
