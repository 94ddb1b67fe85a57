"""TaskFlow: ``@task`` and its variants turn functions into tasks.

Calling a decorated function inside a DAG creates an operator and returns an XComArg for
its result; passing that XComArg to another task call creates the upstream edge.
"""

from __future__ import annotations

import functools
import inspect
import re
import typing
from collections.abc import Callable, Collection, Mapping
from typing import Any

from .baseoperator import BaseOperator
from .context import current_dag, current_task_group
from .exceptions import DagDefinitionError
from .operators.bash import BashOperator
from .operators.branch import BranchPythonOperator
from .operators.python import KNOWN_CONTEXT_KEYS, PythonOperator, determine_kwargs
from .operators.python_virtualenv import (
    BranchExternalPythonOperator,
    BranchPythonVirtualenvOperator,
    ExternalPythonOperator,
    PythonVirtualenvOperator,
)
from .operators.short_circuit import ShortCircuitOperator
from .resolve import resolve_all
from .sensors.python import PythonSensor
from .trigger_rule import TriggerRule
from .xcom_arg import XComArg

if typing.TYPE_CHECKING:
    from .dag import DAG
    from .taskgroup import TaskGroup


_SUFFIX = re.compile(r"__\d+$")


def get_unique_task_id(
    task_id: str, dag: DAG | None = None, task_group: TaskGroup | None = None
) -> str:
    """``task_id``, or ``task_id__N`` when the DAG already has it (Airflow's numbering)."""
    dag = dag or current_dag()
    if dag is None:
        return task_id
    group = task_group or current_task_group(dag)
    full_id = group.child_id(task_id) if group else task_id
    if full_id not in dag.task_dict:
        return task_id
    core = _SUFFIX.split(task_id)[0]
    pattern = re.compile(rf"^{re.escape(_SUFFIX.split(full_id)[0])}__(\d+)$")
    suffixes = [int(match.group(1)) for used in dag.task_dict if (match := pattern.match(used))]
    return f"{core}__{max(suffixes, default=0) + 1}"


def _check_call_signature(
    function: Callable[..., Any], args: Collection[Any], kwargs: Mapping[str, Any], task_id: str
) -> None:
    """Fail at definition time when the call cannot bind to the function; context keys
    (``ti``, ``ds`` ...) count as supplied because the runner passes them."""
    signature = inspect.signature(function)
    parameters = []
    for parameter in signature.parameters.values():
        if parameter.name in KNOWN_CONTEXT_KEYS:
            if parameter.default not in (None, inspect.Parameter.empty):
                raise DagDefinitionError(
                    f"Task {task_id!r}: context key parameter {parameter.name!r} can't have a "
                    "default other than None"
                )
            parameter = parameter.replace(default=None)
        parameters.append(parameter)
    try:
        signature.replace(parameters=parameters).bind(*args, **kwargs)
    except (TypeError, ValueError) as err:
        raise DagDefinitionError(
            f"Task {task_id!r}: arguments do not match {function.__qualname__}{signature}: {err}"
        ) from None


class DecoratedOperator(BaseOperator):
    """Base of the TaskFlow operators: stores the function and its call arguments
    (templated, so XComArgs in them become edges) and gives repeated calls unique ids."""

    template_fields: typing.Sequence[str] = ("op_args", "op_kwargs")
    custom_operator_name = "@task"

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        task_id: str,
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ):
        task_id = get_unique_task_id(task_id, kwargs.get("dag"), kwargs.get("task_group"))
        op_args = list(op_args or [])
        op_kwargs = dict(op_kwargs or {})
        _check_call_signature(python_callable, op_args, op_kwargs, task_id)
        super().__init__(
            task_id=task_id, **self._upstream_kwargs(python_callable, op_args, op_kwargs), **kwargs
        )
        self.python_callable = python_callable
        self.op_args = op_args
        self.op_kwargs = op_kwargs

    def _upstream_kwargs(
        self, python_callable: Callable[..., Any], op_args: list[Any], op_kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """Arguments the concrete operator class's constructor needs."""
        return {"python_callable": python_callable, "op_args": op_args, "op_kwargs": op_kwargs}


class _PythonDecoratedOperator(DecoratedOperator, PythonOperator):
    """``@task``: a PythonOperator made from a function."""

    template_fields: typing.Sequence[str] = ("templates_dict", "op_args", "op_kwargs")


class _BranchPythonDecoratedOperator(DecoratedOperator, BranchPythonOperator):
    """``@task.branch``: the function returns the task id(s) to follow."""

    template_fields: typing.Sequence[str] = ("templates_dict", "op_args", "op_kwargs")
    custom_operator_name = "@task.branch"


class _ShortCircuitDecoratedOperator(DecoratedOperator, ShortCircuitOperator):
    """``@task.short_circuit``: downstream tasks run only if the function returns truthy."""

    template_fields: typing.Sequence[str] = ("templates_dict", "op_args", "op_kwargs")
    custom_operator_name = "@task.short_circuit"


class _BashDecoratedOperator(DecoratedOperator, BashOperator):
    """``@task.bash``: the function returns the bash command to run."""

    template_fields: typing.Sequence[str] = ("op_args", "op_kwargs", "bash_command", "env", "cwd")
    custom_operator_name = "@task.bash"

    def _upstream_kwargs(
        self, python_callable: Callable[..., Any], op_args: list[Any], op_kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        # The command is only known once the function has run.
        return {"bash_command": ""}

    def execute(self, context: Mapping[str, Any]) -> Any:
        self.op_args = resolve_all(self.op_args, context)
        self.op_kwargs = resolve_all(self.op_kwargs, context)
        kwargs = determine_kwargs(self.python_callable, self.op_args, {**context, **self.op_kwargs})
        command = self.python_callable(*self.op_args, **kwargs)
        if not isinstance(command, str) or not command.strip():
            raise TypeError(
                "The returned value from the TaskFlow callable must be a non-empty string."
            )
        # The returned command may contain Jinja, rendered like a bash_command field.
        self.bash_command = self.render_template(command, context)
        return super().execute(context)


class _SensorDecoratedOperator(DecoratedOperator, PythonSensor):
    """``@task.sensor``: the function is the poke; it returns a bool or a PokeReturnValue."""

    template_fields: typing.Sequence[str] = ("templates_dict", "op_args", "op_kwargs")
    custom_operator_name = "@task.sensor"


_VENV_FIELDS = ("templates_dict", "op_args", "op_kwargs")


class _PythonVirtualenvDecoratedOperator(DecoratedOperator, PythonVirtualenvOperator):
    """``@task.virtualenv``: the function runs in a virtualenv built from ``requirements``."""

    template_fields: typing.Sequence[str] = (
        "requirements",
        "index_urls",
        "venv_cache_path",
        *_VENV_FIELDS,
    )
    custom_operator_name = "@task.virtualenv"


class _ExternalPythonDecoratedOperator(DecoratedOperator, ExternalPythonOperator):
    """``@task.external_python(python=...)``: the function runs with that interpreter."""

    template_fields: typing.Sequence[str] = ("python", *_VENV_FIELDS)
    custom_operator_name = "@task.external_python"


class _BranchPythonVirtualenvDecoratedOperator(DecoratedOperator, BranchPythonVirtualenvOperator):
    """``@task.branch_virtualenv``: a branch decided in a virtualenv."""

    template_fields: typing.Sequence[str] = (
        "requirements",
        "index_urls",
        "venv_cache_path",
        *_VENV_FIELDS,
    )
    custom_operator_name = "@task.branch_virtualenv"


class _BranchExternalPythonDecoratedOperator(DecoratedOperator, BranchExternalPythonOperator):
    """``@task.branch_external_python(python=...)``: a branch decided by that interpreter."""

    template_fields: typing.Sequence[str] = ("python", *_VENV_FIELDS)
    custom_operator_name = "@task.branch_external_python"


def _infer_multiple_outputs(function: Callable[..., Any]) -> bool:
    """True when the return annotation is a mapping type (``-> dict[str, int]``)."""
    try:
        return_type = typing.get_type_hints(function).get("return")
    except Exception:  # unresolvable annotations: do not guess
        return False
    if return_type is None:
        return False
    origin = typing.get_origin(return_type) or return_type
    return isinstance(origin, type) and issubclass(origin, Mapping)


class _TaskDecorator:
    """A decorated function: calling it creates the task and returns its XComArg."""

    def __init__(
        self,
        function: Callable[..., Any],
        operator_class: type[DecoratedOperator],
        multiple_outputs: bool | None = None,
        kwargs: Mapping[str, Any] | None = None,
    ):
        if not callable(function):
            raise DagDefinitionError(f"@task needs a function, got {function!r}")
        self.function = function
        self.operator_class = operator_class
        self.multiple_outputs = (
            _infer_multiple_outputs(function) if multiple_outputs is None else multiple_outputs
        )
        self.kwargs = dict(kwargs or {})
        functools.update_wrapper(self, function)

    def __call__(self, *args: Any, **kwargs: Any) -> XComArg:
        operator_kwargs = dict(self.kwargs)
        task_id = operator_kwargs.pop("task_id", self.function.__name__)
        if self.function.__doc__ and "doc_md" not in operator_kwargs:
            operator_kwargs["doc_md"] = inspect.cleandoc(self.function.__doc__)
        operator = self.operator_class(
            python_callable=self.function,
            task_id=task_id,
            op_args=args,
            op_kwargs=kwargs,
            multiple_outputs=self.multiple_outputs,
            **operator_kwargs,
        )
        return XComArg(operator)

    # -- dynamic task mapping ------------------------------------------------------------

    def partial(self, **kwargs: Any) -> _TaskDecoratorPartial:
        """Fix some function arguments; ``.expand(...)`` maps over the others."""
        return _TaskDecoratorPartial(self, kwargs)

    def expand(self, **mapped_kwargs: Any) -> XComArg:
        """One task instance per value (the cartesian product over several arguments)."""
        return _TaskDecoratorPartial(self, {}).expand(**mapped_kwargs)

    def expand_kwargs(self, kwargs: Any, *, strict: bool = True) -> XComArg:
        """One task instance per dict of function arguments."""
        return _TaskDecoratorPartial(self, {}).expand_kwargs(kwargs, strict=strict)

    def override(self, **kwargs: Any) -> _TaskDecorator:
        """A copy with some operator arguments replaced: ``my_task.override(task_id="x")()``."""
        multiple_outputs = kwargs.pop("multiple_outputs", self.multiple_outputs)
        return _TaskDecorator(
            self.function, self.operator_class, multiple_outputs, {**self.kwargs, **kwargs}
        )


class _TaskDecoratorPartial:
    """``fn.partial(a=1)``: the fixed function arguments of a mapped TaskFlow task."""

    def __init__(self, decorator: _TaskDecorator, kwargs: dict[str, Any]) -> None:
        self.decorator = decorator
        self.kwargs = kwargs

    def _where(self) -> tuple[str, str]:
        task_id = self.decorator.kwargs.get("task_id", self.decorator.function.__name__)
        return task_id, f"Task {task_id!r}"

    def expand(self, **mapped_kwargs: Any) -> XComArg:
        from .expandinput import DictOfListsExpandInput

        task_id, where = self._where()
        if not mapped_kwargs:
            raise DagDefinitionError(f"{where}: expand() needs at least one argument to map over")
        self._check(mapped_kwargs, where)
        return self._create(DictOfListsExpandInput(mapped_kwargs, where))

    def expand_kwargs(self, kwargs: Any, *, strict: bool = True) -> XComArg:
        from .expandinput import ListOfDictsExpandInput

        task_id, where = self._where()
        expand_input = ListOfDictsExpandInput(kwargs, where)
        self._check(dict.fromkeys(expand_input.names()), where)
        return self._create(expand_input)

    def _check(self, mapped: Mapping[str, Any], where: str) -> None:
        function = self.decorator.function
        for name in mapped:
            if name in self.kwargs:
                raise DagDefinitionError(
                    f"{where}: argument {name!r} is given to both partial() and expand() "
                    "(mapping already partial argument)"
                )
        parameters = inspect.signature(function).parameters
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
        for name in mapped:
            parameter = parameters.get(name)
            if parameter is None and not takes_any:
                raise DagDefinitionError(
                    f"{where}: {function.__qualname__}() got an unexpected keyword argument "
                    f"{name!r} to map over"
                )
            if parameter is not None and parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
                raise DagDefinitionError(
                    f"{where}: positional-only argument {name!r} cannot be mapped"
                )

    def _create(self, expand_input: Any) -> XComArg:
        from .mappedoperator import MappedOperator

        decorator = self.decorator
        operator_kwargs = dict(decorator.kwargs)
        task_id = operator_kwargs.pop("task_id", decorator.function.__name__)
        if decorator.function.__doc__ and "doc_md" not in operator_kwargs:
            operator_kwargs["doc_md"] = inspect.cleandoc(decorator.function.__doc__)
        task_id = get_unique_task_id(
            task_id, operator_kwargs.get("dag"), operator_kwargs.get("task_group")
        )
        # Fails at definition time on a call that cannot bind (mapped names included); the
        # dicts of expand_kwargs over a task's result are only known at run time.
        if isinstance(expand_input.value, dict):
            calls = [dict.fromkeys(expand_input.value)]
        elif isinstance(expand_input.value, list):
            calls = [dict(item) for item in expand_input.value if isinstance(item, Mapping)]
        else:
            calls = []
        for mapped in calls:
            _check_call_signature(decorator.function, [], {**self.kwargs, **mapped}, task_id)
        operator = MappedOperator.create(
            decorator.operator_class,
            {
                "task_id": task_id,
                "python_callable": decorator.function,
                "op_args": [],
                "op_kwargs": dict(self.kwargs),
                "multiple_outputs": decorator.multiple_outputs,
                **operator_kwargs,
            },
            expand_input,
            mapped_into="op_kwargs",
        )
        return XComArg(operator)


def _decorator(
    operator_class: type[DecoratedOperator],
    python_callable: Callable[..., Any] | None,
    multiple_outputs: bool | None,
    kwargs: dict[str, Any],
) -> Any:
    if python_callable is not None:
        return _TaskDecorator(python_callable, operator_class, multiple_outputs, kwargs)
    return lambda function: _TaskDecorator(function, operator_class, multiple_outputs, kwargs)


class TaskDecoratorCollection:
    """``task``: ``@task`` / ``@task.python`` plus ``.bash``, ``.branch``, ``.short_circuit``.

    Each works bare (``@task``) or with operator arguments (``@task(retries=2)``).
    """

    def python(
        self,
        python_callable: Callable[..., Any] | None = None,
        multiple_outputs: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        return _decorator(_PythonDecoratedOperator, python_callable, multiple_outputs, kwargs)

    __call__ = python

    def bash(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        kwargs.pop("multiple_outputs", None)  # a command's output is one string
        return _decorator(_BashDecoratedOperator, python_callable, False, kwargs)

    def branch(
        self,
        python_callable: Callable[..., Any] | None = None,
        multiple_outputs: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        return _decorator(_BranchPythonDecoratedOperator, python_callable, multiple_outputs, kwargs)

    def short_circuit(
        self,
        python_callable: Callable[..., Any] | None = None,
        multiple_outputs: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        return _decorator(_ShortCircuitDecoratedOperator, python_callable, multiple_outputs, kwargs)

    def virtualenv(
        self,
        python_callable: Callable[..., Any] | None = None,
        multiple_outputs: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        return _decorator(
            _PythonVirtualenvDecoratedOperator, python_callable, multiple_outputs, kwargs
        )

    def external_python(
        self,
        python_callable: Callable[..., Any] | None = None,
        multiple_outputs: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        return _decorator(
            _ExternalPythonDecoratedOperator, python_callable, multiple_outputs, kwargs
        )

    def branch_virtualenv(
        self,
        python_callable: Callable[..., Any] | None = None,
        multiple_outputs: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        return _decorator(
            _BranchPythonVirtualenvDecoratedOperator, python_callable, multiple_outputs, kwargs
        )

    def branch_external_python(
        self,
        python_callable: Callable[..., Any] | None = None,
        multiple_outputs: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        return _decorator(
            _BranchExternalPythonDecoratedOperator, python_callable, multiple_outputs, kwargs
        )

    def sensor(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        kwargs.pop("multiple_outputs", None)  # a sensor returns one value (its xcom_value)
        return _decorator(_SensorDecoratedOperator, python_callable, False, kwargs)


task = TaskDecoratorCollection()


def setup(function: Callable[..., Any] | _TaskDecorator) -> _TaskDecorator:
    """Mark a TaskFlow task as a setup task (``@setup`` above or instead of ``@task``)."""
    decorated = function if isinstance(function, _TaskDecorator) else task(function)
    return decorated.override(is_setup=True)


def teardown(function: Any = None, *, on_failure_fail_dagrun: bool = False) -> Any:
    """Mark a TaskFlow task as teardown: it runs once its setups are done, whatever
    happened in between (trigger rule all_done_setup_success)."""

    def wrap(target: Callable[..., Any] | _TaskDecorator) -> _TaskDecorator:
        decorated = target if isinstance(target, _TaskDecorator) else task(target)
        return decorated.override(
            is_teardown=True,
            trigger_rule=TriggerRule.ALL_DONE_SETUP_SUCCESS,
            on_failure_fail_dagrun=on_failure_fail_dagrun,
        )

    return wrap(function) if function is not None else wrap
