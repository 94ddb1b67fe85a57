"""Airflow arguments we do not support, refused by name: nothing a DAG file passes is ignored.

`DAG(...)` and every operator constructor end in `**kwargs`; whatever lands there is either
an Airflow argument we do not (yet) support, one Airflow 3 removed, or a typo. Each fails the
import of the DAG file with a message naming the argument, the DAG or task, and what to do,
instead of running the DAG without what the author asked for. docs/authoring.md has the full
table of Airflow 3's DAG and BaseOperator arguments and what we do with each.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .exceptions import DagDefinitionError

_REMOVED_IN_AIRFLOW_3 = "Airflow 3 removed it"

# DAG arguments: name -> why it is refused (and what to use instead, where there is something).
UNSUPPORTED_DAG_ARGS: dict[str, str] = {
    "sla_miss_callback": f"{_REMOVED_IN_AIRFLOW_3} (SLAs are gone; Airflow 3.1 has deadline "
    "alerts, which we do not support yet)",
    "deadline": "deadline alerts are not supported yet",
    "access_control": "per-DAG access control is not supported: roles apply to every DAG",
    "disable_bundle_versioning": "DAG bundles are not supported: DAGs come from ORCH_DAGS_FOLDER",
    "default_view": f"{_REMOVED_IN_AIRFLOW_3} (the UI opens a DAG on its grid)",
    "orientation": f"{_REMOVED_IN_AIRFLOW_3} (the graph is drawn left to right)",
    "schedule_interval": f"{_REMOVED_IN_AIRFLOW_3}; use schedule=",
    "timetable": f"{_REMOVED_IN_AIRFLOW_3}; use schedule=",
    "concurrency": f"{_REMOVED_IN_AIRFLOW_3}; use max_active_tasks=",
    "full_filepath": _REMOVED_IN_AIRFLOW_3,
}

# Operator (BaseOperator) arguments.
UNSUPPORTED_OPERATOR_ARGS: dict[str, str] = {
    "sla": f"{_REMOVED_IN_AIRFLOW_3} (SLAs are gone)",
    "task_concurrency": f"{_REMOVED_IN_AIRFLOW_3}; use max_active_tis_per_dag=",
    "resources": "per-task resources are not supported (use executor_config for pods)",
    "run_as_user": "running a task as another Unix user (impersonation) is not supported",
    "on_skipped_callback": "on_skipped_callback is not supported yet",
    "wait_for_past_depends_before_skipping": "it is not supported yet",
    "logger_name": "custom task logger names are not supported",
    "doc": "only doc_md is supported",
    "doc_rst": "only doc_md is supported",
    "doc_json": "only doc_md is supported",
    "doc_yaml": "only doc_md is supported",
    "start_trigger_args": "it is not a BaseOperator argument: declare it on the operator class "
    "(start_trigger_args = StartTriggerArgs(...)), as in Airflow",
    "start_from_trigger": "it is not a BaseOperator argument: set it as the operator class's "
    "attribute or in the operator's own __init__ (self.start_from_trigger = ...), as in Airflow",
    "provide_context": f"{_REMOVED_IN_AIRFLOW_3}: the context is always passed to callables "
    "that take **kwargs",
}

# Airflow operator arguments that only switch Airflow's own warnings on or off: we never emit
# those warnings, so there is nothing for them to change (documented in docs/authoring.md).
WARNING_SWITCHES = frozenset({"allow_nested_operators"})


def refuse_dag_args(dag_id: str, kwargs: Mapping[str, Any]) -> None:
    """Raise DagDefinitionError naming every argument of `kwargs` and why it is refused."""
    if kwargs:
        raise DagDefinitionError(f"DAG {dag_id!r}: {_why(kwargs, UNSUPPORTED_DAG_ARGS, 'DAG')}")


def refuse_operator_args(operator: str, task_id: str, kwargs: dict[str, Any]) -> None:
    """Drop the warning switches from `kwargs`; raise naming every other argument."""
    for name in WARNING_SWITCHES & kwargs.keys():
        del kwargs[name]
    if kwargs:
        raise DagDefinitionError(
            f"Task {task_id!r}: {_why(kwargs, UNSUPPORTED_OPERATOR_ARGS, operator)}"
        )


def _why(kwargs: Mapping[str, Any], known: Mapping[str, str], owner: str) -> str:
    reasons = [
        f"argument {name!r} is not supported: {known[name]}"
        if name in known
        else f"{owner} got an unexpected argument {name!r}"
        for name in sorted(kwargs)
    ]
    return "; ".join(reasons)


class UnsupportedInContext:
    """A context value Airflow has and we do not yet: the key exists (so a task function that
    asks for it by parameter name gets this, not a silent None), and any use of it fails the
    task with an error naming it."""

    def __init__(self, key: str, what: str) -> None:
        self._key = key
        self._what = what

    def _refuse(self, *_args: Any, **_kwargs: Any) -> Any:
        raise NotImplementedError(
            f"context[{self._key!r}] ({self._what}) is not supported by orchestrator yet"
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        self._refuse()

    __getitem__ = __call__ = __iter__ = __len__ = __contains__ = _refuse

    def __repr__(self) -> str:
        return f"<{self._key}: not supported by orchestrator yet>"


# Airflow 3.3's task and asset state stores (key/value state kept between tries and runs).
UNSUPPORTED_CONTEXT_KEYS = {
    "task_state_store": "Airflow 3.3's per-task state store",
    "asset_state_store": "Airflow 3.3's per-asset state store",
}
