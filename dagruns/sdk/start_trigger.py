"""Starting a task from the triggerer (Airflow 2.10+/3's `start_from_trigger`): what the DAG
file declares, checked and turned into the serialized DAG's `start_trigger_args`.

An operator class declares `start_trigger_args = StartTriggerArgs(trigger_cls=...,
trigger_kwargs=..., next_method=..., next_kwargs=..., timeout=...)`, and a task whose
`start_from_trigger` is true (the class attribute, or set by the operator's own `__init__`) is
deferred by the scheduler straight to the triggerer on that trigger: no worker runs `execute`;
the trigger's event resumes `next_method` in a worker, or a task-end event ends the task in the
triggerer. As in Airflow, the args are read when the DAG is serialized (an `__init__` that
assigns `self.start_trigger_args.trigger_kwargs` changes the class's shared object, exactly as
it does in Airflow).

What Airflow would do and we cannot is refused here, naming the task:
- a trigger kwarg that Airflow's triggerer renders with the task's context (its name is one of
  the operator's `template_fields` and its value holds a Jinja template, or a string ending in
  one of `template_ext`): our triggerer has no task context to render it with;
- a mapped task starting from the trigger (Airflow 3 does not start one either: it logs
  "Starting a mapped task from triggerer is currently unsupported");
- `start_from_trigger` true without `start_trigger_args`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .exceptions import DagDefinitionError
from .triggers.base import StartTriggerArgs
from .triggers.serde import NotSerializable, encode

if TYPE_CHECKING:
    from .baseoperator import BaseOperator

JINJA_MARKERS = ("{{", "{%", "{#")


def serialize_start_from_trigger(task: BaseOperator) -> dict[str, Any]:
    """The serialized DAG's `start_trigger_args` and `start_from_trigger` of `task` ({} for a
    task that does not start from the triggerer, so every other task's form is unchanged)."""
    from .mappedoperator import MappedOperator

    where = f"Task {task.task_id!r}"
    if isinstance(task, MappedOperator):
        _refuse_mapped(task, where)
        return {}
    args = getattr(task, "start_trigger_args", None)
    start = getattr(task, "start_from_trigger", False)
    if not isinstance(start, bool):
        raise DagDefinitionError(
            f"{where}: start_from_trigger must be True or False, not {start!r}"
        )
    if args is None:
        if start:
            raise DagDefinitionError(
                f"{where}: start_from_trigger=True needs the operator's start_trigger_args "
                "(a StartTriggerArgs naming the trigger to start with)"
            )
        return {}
    if not start:
        return {}
    return {"start_trigger_args": _args(args, task, where), "start_from_trigger": True}


def _args(args: Any, task: BaseOperator, where: str) -> dict[str, Any]:
    if not isinstance(args, StartTriggerArgs):
        raise DagDefinitionError(
            f"{where}: start_trigger_args must be a StartTriggerArgs "
            f"(from airflow.triggers.base), not {type(args).__name__}"
        )
    if not isinstance(args.trigger_cls, str) or "." not in args.trigger_cls:
        raise DagDefinitionError(
            f"{where}: start_trigger_args.trigger_cls must be the trigger's import path "
            f"('module.Class'), not {args.trigger_cls!r}"
        )
    if not isinstance(args.next_method, str) or not args.next_method:
        raise DagDefinitionError(f"{where}: start_trigger_args.next_method must be a method name")
    if args.timeout is not None and not isinstance(args.timeout, timedelta):
        raise DagDefinitionError(
            f"{where}: start_trigger_args.timeout must be a timedelta or None, not "
            f"{type(args.timeout).__name__}"
        )
    trigger_kwargs = dict(args.trigger_kwargs or {})
    _refuse_templated(trigger_kwargs, task, where)
    try:
        return {
            "trigger_cls": args.trigger_cls,
            "trigger_kwargs": encode(trigger_kwargs, "start_trigger_args.trigger_kwargs"),
            "next_method": args.next_method,
            "next_kwargs": encode(dict(args.next_kwargs or {}), "start_trigger_args.next_kwargs"),
            "timeout": args.timeout.total_seconds() if args.timeout is not None else None,
        }
    except NotSerializable as exc:
        raise DagDefinitionError(f"{where}: {exc}") from None


def _refuse_templated(trigger_kwargs: dict[str, Any], task: BaseOperator, where: str) -> None:
    """Airflow's triggerer renders the trigger kwargs named in the operator's template_fields
    with the task's context; we cannot, so a value it would render is refused."""
    for name in task.template_fields:
        if name in trigger_kwargs and _is_template(trigger_kwargs[name], task.template_ext):
            raise DagDefinitionError(
                f"{where}: start_trigger_args.trigger_kwargs[{name!r}] is a template "
                f"({trigger_kwargs[name]!r}); rendering templated trigger kwargs in the "
                "triggerer (start_from_trigger) is not supported: pass a plain value, or "
                "defer from execute() with self.defer(), where fields are rendered"
            )


def _is_template(value: Any, template_ext: Sequence[str]) -> bool:
    if isinstance(value, str):
        return any(m in value for m in JINJA_MARKERS) or (
            bool(template_ext) and value.endswith(tuple(template_ext))
        )
    if isinstance(value, dict):
        return any(_is_template(v, template_ext) for v in value.values())
    if isinstance(value, list | tuple | set):
        return any(_is_template(v, template_ext) for v in value)
    return False


def _refuse_mapped(task: Any, where: str) -> None:
    cls = task.operator_class
    if getattr(cls, "start_trigger_args", None) is None:
        return
    expanded = task.expand_input.value
    if task.partial_kwargs.get("start_from_trigger", getattr(cls, "start_from_trigger", False)) or (
        isinstance(expanded, dict) and "start_from_trigger" in expanded
    ):
        raise DagDefinitionError(
            f"{where}: start_from_trigger on a mapped task is not supported (Airflow 3 does not "
            "start a mapped task from the triggerer either)"
        )
