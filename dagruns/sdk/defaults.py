"""Airflow's default task settings, and ``default_args`` applied to operator constructors.

Like Airflow's ``BaseOperatorMeta``, every operator ``__init__`` is wrapped so that a
keyword the constructor accepts but the caller omitted is taken from the merged
``default_args`` of the DAG, the enclosing task groups and the call itself.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .context import current_dag, current_task_group
from .exceptions import DagDefinitionError

if TYPE_CHECKING:
    from .dag import DAG
    from .taskgroup import TaskGroup

DEFAULT_OWNER = "airflow"
DEFAULT_RETRIES = 0
DEFAULT_RETRY_DELAY = timedelta(seconds=300)
DEFAULT_POOL = "default_pool"
DEFAULT_POOL_SLOTS = 1
DEFAULT_PRIORITY_WEIGHT = 1
DEFAULT_WEIGHT_RULE = "downstream"
DEFAULT_QUEUE = "default"
DEFAULT_TRIGGER_RULE = "all_success"

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def merged_default_args(
    dag: DAG | None, group: TaskGroup | None, explicit: dict[str, Any] | None
) -> dict[str, Any]:
    """DAG's default_args, overridden by the group's (which already include the outer
    groups'), overridden by the ``default_args`` passed to the operator itself."""
    merged: dict[str, Any] = {}
    if dag is not None:
        merged.update(dag.default_args)
    if group is not None:
        merged.update(group.default_args)
    merged.update(explicit or {})
    return merged


def apply_defaults(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap an operator ``__init__`` to fill omitted keywords from ``default_args``."""
    parameters = inspect.signature(init).parameters
    accepted = {name for name, p in parameters.items() if name != "self" and p.kind in _NAMED}
    required = {name for name in accepted if parameters[name].default is inspect.Parameter.empty}
    passes_default_args = "default_args" in accepted or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        if args:
            raise DagDefinitionError(
                f"Use keyword arguments when initializing operators ({type(self).__name__} "
                f"got positional arguments {args!r})"
            )
        dag = kwargs.get("dag") or current_dag()
        group = kwargs.get("task_group") or current_task_group(dag)
        if dag is None and group is not None:
            dag = group.dag
        default_args = merged_default_args(dag, group, kwargs.get("default_args"))
        for name in accepted:
            if name not in kwargs and name in default_args:
                kwargs[name] = default_args[name]
        missing = sorted(required - kwargs.keys())
        if missing:
            task_id = kwargs.get("task_id", "?")
            raise DagDefinitionError(
                f"{type(self).__name__} (task_id {task_id!r}) is missing keyword "
                f"argument{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}"
            )
        if passes_default_args:
            kwargs["default_args"] = default_args
        # Subclass __init__ calls nest; the post-init hook must run once, after the
        # outermost one has set every field (template fields are set by subclasses).
        depth = self.__dict__.get("_init_depth", 0)
        object.__setattr__(self, "_init_depth", depth + 1)
        try:
            init(self, **kwargs)
        finally:
            object.__setattr__(self, "_init_depth", depth)
        if depth == 0:
            self._post_init()

    wrapper.__wrapped_by_apply_defaults__ = True  # type: ignore[attr-defined]
    return wrapper
