"""TaskGroup: a named, nestable set of tasks shown as one box in the graph view.

A group prefixes its tasks' ids (``group.task``) unless ``prefix_group_id=False``, and
``>>`` on a group links its leaves (outgoing) or its roots (incoming), as in Airflow.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .context import current_dag, current_task_group, pop_task_group, push_task_group
from .dependencies import DependencyMixin
from .exceptions import DagDefinitionError, DuplicateTaskIdFound
from .ids import validate_group_key, validate_key

if TYPE_CHECKING:
    from .baseoperator import BaseOperator
    from .dag import DAG


class TaskGroup(DependencyMixin):
    """A group of tasks; use as a context manager (``with TaskGroup("extract"):``).

    ``default_args`` given to a group apply to the tasks created inside it, on top of the
    DAG's and the outer groups'. With ``add_suffix_on_collision`` a reused group_id
    becomes ``id__1``, ``id__2``, ... instead of an error.
    """

    def __init__(
        self,
        group_id: str | None,
        prefix_group_id: bool = True,
        parent_group: TaskGroup | None = None,
        dag: DAG | None = None,
        default_args: dict[str, Any] | None = None,
        tooltip: str = "",
        ui_color: str = "CornflowerBlue",
        ui_fgcolor: str = "#000",
        add_suffix_on_collision: bool = False,
    ):
        self.prefix_group_id = prefix_group_id
        self.tooltip = tooltip
        self.ui_color = ui_color
        self.ui_fgcolor = ui_fgcolor
        self.children: dict[str, BaseOperator | TaskGroup] = {}
        if group_id is None:
            # The root group of a DAG: made by the DAG itself, never by authors.
            if dag is None or parent_group is not None:
                raise DagDefinitionError("group_id may only be None for the root group of a DAG")
            self._group_id: str | None = None
            self.dag = dag
            self.parent_group: TaskGroup | None = None
            self.default_args: dict[str, Any] = {}
            return

        validate_group_key(group_id)
        dag = dag or (parent_group.dag if parent_group else None) or current_dag()
        if dag is None:
            raise DagDefinitionError(f"TaskGroup {group_id!r} can only be used inside a DAG")
        parent_group = parent_group or current_task_group(dag)
        if parent_group is None or parent_group.dag is not dag:
            raise DagDefinitionError(
                f"TaskGroup {group_id!r}: cannot mix TaskGroups from different DAGs"
            )
        self.dag = dag
        self.parent_group = parent_group
        self._group_id = group_id
        self.default_args = {**parent_group.default_args, **copy.deepcopy(default_args or {})}
        self._claim_group_id(add_suffix_on_collision)
        parent_group.add(self)

    def _claim_group_id(self, add_suffix_on_collision: bool) -> None:
        used = self.dag.used_node_ids
        if self.group_id in used:
            if not add_suffix_on_collision:
                raise DuplicateTaskIdFound(
                    f"group_id {self.group_id!r} has already been added to the DAG"
                )
            base_label = re.split(r"__\d+$", self._group_id or "")[0]
            self._group_id = base_label
            pattern = re.compile(rf"^{re.escape(self.group_id or '')}__(\d+)$")
            suffixes = [int(m.group(1)) for used_id in used if (m := pattern.match(used_id))]
            self._group_id = f"{base_label}__{max(suffixes, default=0) + 1}"
        validate_key(self.group_id, "group_id")
        self.dag.used_node_ids.add(self.group_id or "")

    # A MappedTaskGroup (dagruns/sdk/mapped_taskgroup.py) says True.
    is_mapped = False

    def enclosing_mapped_group(self) -> TaskGroup | None:
        """This group or the nearest enclosing one that is mapped."""
        group: TaskGroup | None = self
        while group is not None:
            if group.is_mapped:
                return group
            group = group.parent_group
        return None

    def serialize_expand_input(self) -> dict[str, Any] | None:
        return None

    @property
    def group_id(self) -> str | None:
        """The full id, including the prefixes of enclosing groups."""
        parent = self.parent_group
        if parent is not None and parent.prefix_group_id and parent._group_id:
            return parent.child_id(self._group_id or "")
        return self._group_id

    @property
    def node_id(self) -> str | None:
        return self.group_id

    @property
    def label(self) -> str | None:
        return self._group_id

    @property
    def is_root(self) -> bool:
        return self._group_id is None

    def child_id(self, label: str) -> str:
        """The id a child labelled ``label`` gets inside this group."""
        if self.prefix_group_id and self.group_id:
            return f"{self.group_id}.{label}"
        return label

    def add(self, node: BaseOperator | TaskGroup) -> None:
        key = node.node_id or ""
        if key in self.children:
            kind = "Task Group" if isinstance(node, TaskGroup) else "Task"
            raise DuplicateTaskIdFound(f"{kind} id {key!r} has already been added to the DAG")
        self.children[key] = node

    def __enter__(self) -> TaskGroup:
        push_task_group(self)
        return self

    def __exit__(self, *exc: object) -> None:
        pop_task_group()

    def __repr__(self) -> str:
        return f"<TaskGroup: {self.group_id}>"

    def __iter__(self) -> Iterator[BaseOperator]:
        """Every task in this group and its subgroups, in insertion order."""
        for child in self.children.values():
            if isinstance(child, TaskGroup):
                yield from child
            else:
                yield child

    def iter_groups(self) -> Iterator[TaskGroup]:
        """This group and every nested group, depth first."""
        yield self
        for child in self.children.values():
            if isinstance(child, TaskGroup):
                yield from child.iter_groups()

    @property
    def roots(self) -> list[BaseOperator]:
        """Tasks of the group with no upstream task inside the group."""
        tasks = list(self)
        ids = {task.task_id for task in tasks}
        return [task for task in tasks if task.upstream_task_ids.isdisjoint(ids)]

    @property
    def leaves(self) -> list[BaseOperator]:
        """Tasks of the group with no downstream task inside the group.

        A teardown at the end is looked through to the work it tears down (Airflow's rule),
        so ``group >> next`` does not make ``next`` wait only for a cleanup step.
        """
        tasks = list(self)
        ids = {task.task_id for task in tasks}
        dag = self.dag

        def has_work_downstream(task: BaseOperator, exclude: str) -> bool:
            return any(
                down_id != exclude and down_id in ids and not dag.get_task(down_id).is_teardown
                for down_id in task.downstream_task_ids
            )

        def first_non_teardown(task: BaseOperator) -> Iterator[BaseOperator]:
            for up_id in sorted(task.upstream_task_ids & ids):
                upstream = dag.get_task(up_id)
                if upstream.is_teardown:
                    yield from first_non_teardown(upstream)
                elif task.is_teardown and upstream.is_setup:
                    continue
                elif not has_work_downstream(upstream, exclude=task.task_id):
                    yield upstream

        found: dict[str, BaseOperator] = {}
        for task in tasks:
            if task.downstream_task_ids.isdisjoint(ids):
                for leaf in [task] if not task.is_teardown else first_non_teardown(task):
                    found.setdefault(leaf.task_id, leaf)
        return list(found.values())


class _TaskGroupFactory:
    """What ``@task_group`` returns: calling it builds the group around the function body."""

    def __init__(self, function: Callable[..., Any], kwargs: dict[str, Any]):
        self.function = function
        self.kwargs = kwargs
        functools.update_wrapper(self, function)

    def override(self, **kwargs: Any) -> _TaskGroupFactory:
        return _TaskGroupFactory(self.function, {**self.kwargs, **kwargs})

    # Mapped task groups: dagruns/sdk/mapped_taskgroup.py
    def partial(self, **kwargs: Any) -> _TaskGroupPartial:
        return _TaskGroupPartial(self, kwargs)

    def expand(self, **mapped_kwargs: Any) -> Any:
        return _TaskGroupPartial(self, {}).expand(**mapped_kwargs)

    def expand_kwargs(self, kwargs: Any) -> Any:
        return _TaskGroupPartial(self, {}).expand_kwargs(kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        group_kwargs = dict(self.kwargs)
        group_kwargs.setdefault("group_id", self.function.__name__)
        group_kwargs.setdefault("add_suffix_on_collision", True)
        with TaskGroup(**group_kwargs) as group:
            if self.function.__doc__ and not group.tooltip:
                group.tooltip = self.function.__doc__.strip()
            result = self.function(*args, **kwargs)
        # Returning the function's own result (e.g. its last XComArg) lets the caller
        # chain on it; a body that returns nothing stands for the whole group.
        return result if result is not None else group


class _TaskGroupPartial:
    def __init__(self, factory: _TaskGroupFactory, kwargs: dict[str, Any]):
        self.factory = factory
        self.kwargs = kwargs

    def expand(self, **mapped_kwargs: Any) -> Any:
        from .mapped_taskgroup import expand_group

        return expand_group(self.factory.function, self.factory.kwargs, self.kwargs, mapped_kwargs)

    def expand_kwargs(self, kwargs: Any) -> Any:
        from .mapped_taskgroup import expand_group

        return expand_group(self.factory.function, self.factory.kwargs, self.kwargs, None, kwargs)


def task_group(python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    """Decorator: ``@task_group`` or ``@task_group(group_id=..., tooltip=...)``."""
    if python_callable is not None:
        return _TaskGroupFactory(python_callable, kwargs)
    return lambda function: _TaskGroupFactory(function, kwargs)
