"""Importing one DAG file and collecting the DAGs it defines.

Shared by the DAG processor's parser children and the task runner, so a task runs exactly the
DAG objects the processor saw. Pure Python (the SDK layer): the runner may import nothing else.
"""

from __future__ import annotations

import hashlib
import importlib.util
import signal
import sys
from pathlib import Path

from . import airflow_compat
from .dag import collect_dags, reset_auto_registered


class DagImportTimeout(Exception):
    """Raised inside the user's code when importing it took longer than the timeout, so the
    traceback shows the line it was stuck on (Airflow does the same with SIGALRM)."""


def dag_module_name(path: str) -> str:
    """A unique module name per file, as Airflow does, so two files named dag.py never collide."""
    return "orch_dagfile_" + hashlib.sha256(path.encode()).hexdigest()[:16] + "_" + Path(path).stem


def import_dag_file(path: str, timeout: float | None = None) -> list:
    """Import one DAG file and return the DAGs it defines, validated, with `fileloc` = `path`.

    Shared by the DAG processor and the task runner (scheduler/runner/task_process.py) —
    which is why it lives in the SDK: the runner imports nothing else, so a
    task runs exactly the DAG objects the processor saw. With `timeout`, a SIGALRM interrupts
    an import that takes longer (main thread only). The caller puts the DAGs folder on
    sys.path. Raises whatever the file raises, or DuplicateDagIdInFile.
    """
    # DAG files written for Airflow import `airflow...`: resolve it to this SDK (unless the
    # real Airflow is installed here; see airflow_compat).
    airflow_compat.install()
    module_name = dag_module_name(path)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    reset_auto_registered()
    if timeout is None:
        spec.loader.exec_module(module)
    else:
        previous = signal.signal(signal.SIGALRM, _raise_timeout(timeout))
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            spec.loader.exec_module(module)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    dags = collect_dags(vars(module))
    seen: dict[str, object] = {}
    for dag in dags:
        if dag.dag_id in seen and seen[dag.dag_id] is not dag:
            raise DuplicateDagIdInFile(dag.dag_id, path)
        seen[dag.dag_id] = dag
        dag.fileloc = path
        dag.validate()
    return list(seen.values())


class DuplicateDagIdInFile(Exception):
    def __init__(self, dag_id: str, path: str) -> None:
        super().__init__(f"DAG id {dag_id!r} is defined more than once in {path}")


def _raise_timeout(timeout: float):
    def handler(signum, frame):
        raise DagImportTimeout(
            f"importing the DAG file took longer than {timeout:g} s "
            f"(ORCH_DAG_FILE_PROCESSOR_TIMEOUT)"
        )

    return handler
