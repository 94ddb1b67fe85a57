"""Airflow's import paths (``airflow.sdk``, the standard provider, Airflow 2's ``airflow.*``)
resolved to our SDK, in the processes that import DAG files.

`install()` puts a meta-path finder (`finder.AirflowCompatFinder`) in front of ``sys.meta_path``
unless a real ``apache-airflow`` is importable: then we neither shadow nor break it, log one line
saying so, and DAG files get the real Airflow. Called by `dagruns.sdk.dag_loader` (the DAG
processor's parser children, the task runner, hence ``dags test``/``tasks test``) and by the
plugin loader; never at Django start-up, so the web server and the scheduler keep a clean
``airflow`` namespace. The mapping itself is data: `table.MODULES`.
"""

from __future__ import annotations

import importlib.util
import logging
import sys

from .finder import AirflowCompatFinder, NotSupportedByOrchestrator, installed_finder

__all__ = ["NotSupportedByOrchestrator", "install", "is_installed", "real_airflow_present"]

logger = logging.getLogger(__name__)

_decided = False


def real_airflow_present() -> bool:
    """True if an ``airflow`` package other than ours is importable (checked without importing
    it, and only while our finder is not installed, since it would answer for itself)."""
    module = sys.modules.get("airflow")
    if module is not None:
        spec = getattr(module, "__spec__", None)
        return not (spec is not None and isinstance(spec.loader, AirflowCompatFinder))
    return importlib.util.find_spec("airflow") is not None


def install() -> bool:
    """Make ``import airflow...`` resolve to our SDK in this process; idempotent.

    Returns True if the shim is active, False if a real Airflow is installed (then it is
    left alone, and the decision is logged once).
    """
    global _decided
    if installed_finder() is not None:
        return True
    if real_airflow_present():
        if not _decided:
            logger.warning(
                "apache-airflow is installed in this environment: DAG files' `airflow` imports "
                "use it, not orchestrator's SDK (the airflow_compat shim is not installed)"
            )
        _decided = True
        return False
    sys.meta_path.insert(0, AirflowCompatFinder())
    _decided = True
    return True


def is_installed() -> bool:
    return installed_finder() is not None
