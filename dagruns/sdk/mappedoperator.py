"""Dynamic task mapping for classic operators: ``Op.partial(**kw).expand(**mapped)``.

A MappedOperator stands in the DAG for all instances of the task: it carries the scheduling
arguments (pool, retries, trigger rule ... from ``partial()`` and ``default_args``), the
operator's remaining arguments, and what it expands over. The operator class itself is only
instantiated in the task runner, for one map index, by ``unmap()`` (Airflow's design: an
operator's constructor may check types a list of values would fail).

Differences from Airflow, on purpose (docs/authoring.md): arguments of BaseOperator itself
(retries, pool, queue, trigger_rule ...) cannot be mapped (they decide scheduling before the
mapped values exist); ``expand()`` inside a mapped task group and mapped groups inside mapped
groups are refused.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .baseoperator import BaseOperator
from .context import current_dag, current_task_group
from .defaults import merged_default_args
from .exceptions import DagDefinitionError
from .expandinput import DictOfListsExpandInput, ExpandInput, ListOfDictsExpandInput
from .xcom_arg import XComArg, iter_xcom_args

if TYPE_CHECKING:
    from .dag import DAG
    from .taskgroup import TaskGroup

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
# Not part of what a mapped instance receives: the structure of the DAG.
_STRUCTURAL = {"task_id", "dag", "task_group", "default_args"}


@functools.cache
def _init_parameters(cls: type) -> frozenset[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or not issubclass(klass, BaseOperator):
            continue
        names.update(_named_parameters(init))
    return frozenset(names)


@functools.cache
def _named_parameters(init: Any) -> frozenset[str]:
    """The keywords one `__init__` accepts. Cached per function: an operator class defined in
    a DAG file is new in every runner, but the bases' constructors are not (BaseOperator's,
    some sixty parameters, is read once in the forkserver: scheduler/forkserver_ready.py)."""
    return frozenset(
        name
        for name, parameter in inspect.signature(inspect.unwrap(init)).parameters.items()
        if name != "self" and parameter.kind in _NAMED
    )


def base_operator_parameters() -> frozenset[str]:
    return _init_parameters(BaseOperator)


def operator_parameters(operator_class: type) -> frozenset[str]:
    """Every keyword the operator's constructors (its class and its bases) accept."""
    return _init_parameters(operator_class)


class OperatorPartial:
    """``Op.partial(task_id=..., **kwargs)``: waits for ``.expand`` / ``.expand_kwargs``."""

    def __init__(self, operator_class: type[BaseOperator], kwargs: dict[str, Any]) -> None:
        task_id = kwargs.get("task_id")
        if not task_id:
            raise DagDefinitionError(f"{operator_class.__name__}.partial() needs a task_id")
        unknown = sorted(set(kwargs) - operator_parameters(operator_class))
        if unknown:
            raise DagDefinitionError(
                f"Invalid arguments were passed to {operator_class.__name__}.partial() "
                f"(task_id: {task_id!r}). Invalid arguments were: {unknown}"
            )
        self.operator_class = operator_class
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return f"{self.operator_class.__name__}.partial(task_id={self.kwargs['task_id']!r})"

    def expand(self, **mapped_kwargs: Any) -> MappedOperator:
        where = f"Task {self.kwargs['task_id']!r}"
        if not mapped_kwargs:
            raise DagDefinitionError(f"{where}: expand() needs at least one argument to map over")
        self._check_names(mapped_kwargs, where)
        return self._create(DictOfListsExpandInput(mapped_kwargs, where))

    def expand_kwargs(self, kwargs: Any, *, strict: bool = True) -> MappedOperator:
        where = f"Task {self.kwargs['task_id']!r}"
        expand_input = ListOfDictsExpandInput(kwargs, where)
        self._check_names(dict.fromkeys(expand_input.names()), where)
        return self._create(expand_input)

    def _check_names(self, mapped: Mapping[str, Any], where: str) -> None:
        check_mapped_names(self.operator_class, self.kwargs, mapped, where)

    def _create(self, expand_input: ExpandInput) -> MappedOperator:
        return MappedOperator.create(self.operator_class, dict(self.kwargs), expand_input)


def check_mapped_names(
    operator_class: type, partial: Mapping[str, Any], mapped: Mapping[str, Any], where: str
) -> None:
    """A mapped argument must be one the operator takes, not a BaseOperator (scheduling)
    argument, and not also given to partial()."""
    accepted = operator_parameters(operator_class)
    for name in mapped:
        if name not in accepted:
            raise DagDefinitionError(
                f"{where}: {operator_class.__name__}.expand() got an unexpected keyword "
                f"argument {name!r}"
            )
        if name in _STRUCTURAL or name in base_operator_parameters():
            raise DagDefinitionError(
                f"{where}: argument {name!r} cannot be mapped (it is an argument of every "
                "operator, decided before the mapped values exist); pass it to partial()"
            )
        if name in partial:
            raise DagDefinitionError(
                f"{where}: argument {name!r} is given to both partial() and expand() "
                "(mapping already partial argument)"
            )


class MappedOperator(BaseOperator):
    """One mapped task of a DAG (see the module docstring)."""

    operator_class: type[BaseOperator]
    partial_kwargs: dict[str, Any]
    expand_input: ExpandInput
    # TaskFlow: the mapped values are arguments of the function (op_kwargs), not of the
    # operator.
    mapped_into: str | None
    _default_args: dict[str, Any]

    @classmethod
    def create(
        cls,
        operator_class: type[BaseOperator],
        kwargs: dict[str, Any],
        expand_input: ExpandInput,
        mapped_into: str | None = None,
    ) -> MappedOperator:
        dag = kwargs.pop("dag", None) or current_dag()
        group = kwargs.pop("task_group", None) or current_task_group(dag)
        if dag is None and group is not None:
            dag = group.dag
        task_id = kwargs.pop("task_id")
        default_args = merged_default_args(dag, group, kwargs.pop("default_args", None))
        base_names = base_operator_parameters()
        accepted = operator_parameters(operator_class)
        unknown = sorted(set(kwargs) - accepted)
        if unknown:
            # The operator is only built in the runner: refuse now what it would refuse then.
            raise DagDefinitionError(
                f"Invalid arguments were passed to {operator_class.__name__} (task_id: "
                f"{task_id!r}). Invalid arguments were: {unknown}"
            )
        # Arguments the operator class takes, filled from default_args as its constructor
        # would be (it is only called in the runner, where no DAG context is active).
        for name in accepted - _STRUCTURAL:
            if name not in kwargs and name in default_args:
                kwargs[name] = default_args[name]
        base_kwargs = {name: value for name, value in kwargs.items() if name in base_names}
        return cls(
            operator_class=operator_class,
            partial_kwargs=kwargs,
            expand_input=expand_input,
            mapped_into=mapped_into,
            task_id=task_id,
            dag=dag,
            task_group=group,
            default_args=default_args,
            **base_kwargs,
        )

    def __init__(
        self,
        *,
        operator_class: type[BaseOperator],
        partial_kwargs: dict[str, Any],
        expand_input: ExpandInput,
        mapped_into: str | None,
        task_id: str,
        dag: DAG | None,
        task_group: TaskGroup | None,
        **base_kwargs: Any,
    ) -> None:
        object.__setattr__(self, "operator_class", operator_class)
        object.__setattr__(self, "partial_kwargs", partial_kwargs)
        object.__setattr__(self, "expand_input", expand_input)
        object.__setattr__(self, "mapped_into", mapped_into)
        object.__setattr__(self, "_default_args", dict(base_kwargs.get("default_args") or {}))
        # The operator class's class-level settings, as the serialized DAG and the UI read them.
        for name in (
            "template_fields",
            "template_ext",
            "template_fields_renderers",
            "ui_color",
            "ui_fgcolor",
            "custom_operator_name",
            "inherits_from_empty_operator",
            "is_branch",
            "is_short_circuit",
            "ignore_downstream_trigger_rules",
        ):
            object.__setattr__(self, name, getattr(operator_class, name))
        where = f"Task {task_id!r}"
        group = task_group or current_task_group(dag or current_dag())
        if group is not None and group.enclosing_mapped_group() is not None:
            raise DagDefinitionError(
                f"{where}: expand() inside a mapped task group is not supported (map the "
                "group over more arguments instead)"
            )
        super().__init__(task_id=task_id, dag=dag, task_group=task_group, **base_kwargs)

    def _post_init(self) -> None:
        # Edges from every XComArg among the partial arguments and the mapped values.
        for value in (self.partial_kwargs, self.expand_input.value):
            for arg in iter_xcom_args(value):
                for operator, _ in arg.iter_references():
                    self.set_upstream(operator)
        object.__setattr__(self, "_initialized", True)

    @property
    def is_mapped(self) -> bool:
        return True

    @property
    def task_type(self) -> str:
        return self.operator_class.__name__

    @property
    def operator_module(self) -> str:
        return self.operator_class.__module__

    def __repr__(self) -> str:
        return f"<Mapped({self.operator_class.__name__}): {self.task_id}>"

    def serialize_expand_input(self) -> dict[str, Any] | None:
        return self.expand_input.serialize()

    def template_values(self) -> dict[str, Any]:
        """What each template field holds before expansion (partial values; the mapped
        ones are in the expand input)."""
        return {field: self.partial_kwargs.get(field) for field in self.template_fields}

    def execute(self, context: Mapping[str, Any]) -> Any:
        raise DagDefinitionError(
            f"Mapped task {self.task_id!r} cannot run as such; the runner unmaps it first"
        )

    def unmap(self, mapped_values: Mapping[str, Any]) -> BaseOperator:
        """The real operator of one instance, given its mapped values (runner side)."""
        kwargs = dict(self.partial_kwargs)
        if self.mapped_into:
            kwargs[self.mapped_into] = {**(kwargs.get(self.mapped_into) or {}), **mapped_values}
        else:
            kwargs.update(mapped_values)
        operator = self.operator_class(
            task_id=self.task_id, default_args=self._default_args, **kwargs
        )
        adopt_structure(operator, self)
        return operator


def adopt_structure(operator: BaseOperator, mapped: BaseOperator) -> None:
    """Give an instance built outside the DAG the mapped task's place in it (no add_task:
    the DAG keeps the mapped task)."""
    object.__setattr__(operator, "_dag", mapped._dag)
    object.__setattr__(operator, "task_group", mapped.task_group)
    object.__setattr__(operator, "upstream_task_ids", mapped.upstream_task_ids)
    object.__setattr__(operator, "downstream_task_ids", mapped.downstream_task_ids)
    object.__setattr__(operator, "params", mapped.params)
    object.__setattr__(operator, "start_date", mapped.start_date)
    object.__setattr__(operator, "end_date", mapped.end_date)
    object.__setattr__(operator, "map_index_template", mapped.map_index_template)


def references_of(value: Any) -> list[XComArg]:
    return list(iter_xcom_args(value))


def has_mapped_dependants(task: BaseOperator) -> bool:
    """Whether some mapped task (or mapped task group) of the DAG expands over this task's
    result."""
    if not task.has_dag():
        return False
    seen_groups: set[int] = set()
    for other in task.dag.tasks:
        if isinstance(other, MappedOperator):
            references = other.expand_input.iter_references()
        else:
            group = other.mapped_task_group
            if group is None or id(group) in seen_groups:
                continue
            seen_groups.add(id(group))
            references = group.expand_input.iter_references()  # type: ignore[attr-defined]
        if any(operator.task_id == task.task_id for operator, _ in references):
            return True
    return False
