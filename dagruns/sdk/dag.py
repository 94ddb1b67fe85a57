"""DAG: a workflow definition (tasks, dependencies, schedule, run-level settings).

A ``with DAG(...)`` block registers the DAG when it ends; the registry functions live in
``discovery`` and are re-exported here (``dagruns.sdk.dag.reset_auto_registered()``).
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import jinja2

from .context import pop_dag, push_dag
from .discovery import (
    auto_registered_dags,
    capture_dags,
    collect_dags,
    register,
    reset_auto_registered,
)
from .exceptions import (
    AirflowDagCycleException,
    DagDefinitionError,
    DuplicateTaskIdFound,
    ParamValidationError,
    TaskNotFound,
)
from .graph import find_cycle, topological_order
from .ids import validate_key
from .params import NOTSET, DagParam, Param, ParamsDict, schema_problem
from .schedule import parse_schedule
from .setup_teardown import _scopes as _setup_teardown_scopes
from .setup_teardown import note_task
from .taskgroup import TaskGroup
from .templating import create_template_env
from .timeutil import timezone_of, to_timedelta, to_utc
from .trigger_rule import TriggerRule
from .unsupported import refuse_dag_args

if TYPE_CHECKING:
    from .baseoperator import BaseOperator

__all__ = [
    "DAG",
    "auto_registered_dags",
    "capture_dags",
    "collect_dags",
    "reset_auto_registered",
]

TAG_MAX_LEN = 100


class DAG:
    """A workflow: tasks, their dependencies, a schedule and run-level settings.

    Arguments and defaults are Airflow 3's (``schedule=None``, ``catchup=False``,
    ``max_active_runs=16``, ``max_active_tasks=16`` ...). Naive ``start_date`` /
    ``end_date`` are taken as UTC and stored in UTC; the schedule's timezone is that of
    ``start_date`` (``dag.timezone``).
    """

    def __init__(
        self,
        dag_id: str,
        *,
        description: str | None = None,
        schedule: Any = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        template_searchpath: str | Iterable[str] | None = None,
        template_undefined: type[jinja2.Undefined] = jinja2.StrictUndefined,
        user_defined_macros: dict[str, Any] | None = None,
        user_defined_filters: dict[str, Callable[..., Any]] | None = None,
        default_args: dict[str, Any] | None = None,
        max_active_tasks: int = 16,
        max_active_runs: int = 16,
        max_consecutive_failed_dag_runs: int = 0,
        dagrun_timeout: timedelta | float | None = None,
        catchup: bool = False,
        on_success_callback: Any = None,
        on_failure_callback: Any = None,
        doc_md: str | None = None,
        params: Mapping[str, Any] | None = None,
        is_paused_upon_creation: bool | None = None,
        jinja_environment_kwargs: dict[str, Any] | None = None,
        render_template_as_native_obj: bool = False,
        tags: Iterable[str] | None = None,
        owner_links: dict[str, str] | None = None,
        auto_register: bool = True,
        fail_fast: bool = False,
        dag_display_name: str | None = None,
        fileloc: str | None = None,
        **unsupported: Any,
    ):
        self.dag_id = validate_key(dag_id, "dag_id")
        refuse_dag_args(self.dag_id, unsupported)  # nothing a DAG file passes is ignored
        self.default_args = copy.deepcopy(dict(default_args or {}))
        self.params = ParamsDict(params)
        # Airflow folds default_args["params"] into the DAG's params.
        self.params.update(self.default_args.pop("params", None) or {})

        start_date = start_date or self.default_args.get("start_date")
        end_date = end_date or self.default_args.get("end_date")
        self.timezone = timezone_of(start_date)
        self.start_date = to_utc(start_date, "start_date")
        self.end_date = to_utc(end_date, "end_date")
        for key in ("start_date", "end_date"):
            if self.default_args.get(key) is not None:
                self.default_args[key] = to_utc(self.default_args[key], key)
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise DagDefinitionError(
                f"DAG {dag_id!r}: end_date ({self.end_date}) is before start_date ({self.start_date})"
            )
        self.schedule = schedule
        self.timetable = parse_schedule(schedule, dag_id)

        self.description = description
        self.doc_md = doc_md
        # True once doc_md holds the content of a .md file rather than a path to one.
        self.doc_md_is_loaded = False
        self.catchup = catchup
        self.max_active_tasks = max_active_tasks
        self.max_active_runs = max_active_runs
        self.max_consecutive_failed_dag_runs = max_consecutive_failed_dag_runs
        self.dagrun_timeout = to_timedelta(dagrun_timeout, "dagrun_timeout")
        self.on_success_callback = on_success_callback
        self.on_failure_callback = on_failure_callback
        self.is_paused_upon_creation = is_paused_upon_creation
        self.tags = _validate_tags(tags, dag_id)
        self.owner_links = dict(owner_links or {})
        self.auto_register = auto_register
        self.fail_fast = fail_fast
        self.dag_display_name = dag_display_name or dag_id

        if isinstance(template_searchpath, str):
            template_searchpath = [template_searchpath]
        self.template_searchpath = list(template_searchpath or [])
        self.template_undefined = template_undefined
        self.user_defined_macros = user_defined_macros
        self.user_defined_filters = user_defined_filters
        self.jinja_environment_kwargs = jinja_environment_kwargs
        self.render_template_as_native_obj = render_template_as_native_obj

        if fileloc is None:
            caller = sys._getframe(1)
            fileloc = caller.f_code.co_filename
        self.fileloc = fileloc
        self.task_dict: dict[str, BaseOperator] = {}
        # Task ids and group ids share one namespace (a group id is a task id prefix).
        self.used_node_ids: set[str] = set()
        self.task_group = TaskGroup(None, dag=self)
        # Information on edges (e.g. a Label's text): {upstream_id: {downstream_id: {...}}}.
        self.edge_info: dict[str, dict[str, dict[str, Any]]] = {}

    def __repr__(self) -> str:
        return f"<DAG: {self.dag_id}>"

    def __enter__(self) -> DAG:
        push_dag(self)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        pop_dag()
        if exc_type is None and self.auto_register:
            register(self)

    # -- tasks -----------------------------------------------------------------------

    @property
    def tasks(self) -> list[BaseOperator]:
        return list(self.task_dict.values())

    @property
    def task_ids(self) -> list[str]:
        return list(self.task_dict)

    def has_task(self, task_id: str) -> bool:
        return task_id in self.task_dict

    def get_task(self, task_id: str) -> BaseOperator:
        try:
            return self.task_dict[task_id]
        except KeyError:
            raise TaskNotFound(f"Task {task_id!r} not found in DAG {self.dag_id!r}") from None

    def add_task(self, task: BaseOperator) -> None:
        """Attach ``task``; a second task with the same id raises DuplicateTaskIdFound."""
        existing = self.task_dict.get(task.task_id)
        if existing is task:
            return
        if existing is not None:
            raise DuplicateTaskIdFound(
                f"Task id {task.task_id!r} has already been added to the DAG {self.dag_id!r}"
            )
        if task.task_id in self.used_node_ids:
            raise DuplicateTaskIdFound(
                f"Task id {task.task_id!r} is already used as a task group id in DAG {self.dag_id!r}"
            )
        group = task.task_group or self.task_group
        group.add(task)
        task.task_group = group
        self.task_dict[task.task_id] = task
        self.used_node_ids.add(task.task_id)
        task._dag = self
        if _setup_teardown_scopes:  # created inside `with teardown_task:`: its work
            note_task(task)
        # A task runs within both its own and the DAG's date range (Airflow's rule).
        if task.start_date is None or (self.start_date and task.start_date < self.start_date):
            task.start_date = self.start_date
        if task.end_date is None or (self.end_date and task.end_date > self.end_date):
            task.end_date = self.end_date

    def set_edge_info(self, upstream_task_id: str, downstream_task_id: str, info: dict) -> None:
        """Record information (Airflow's EdgeInfo, e.g. ``{"label": ...}``) on one edge."""
        self.edge_info.setdefault(upstream_task_id, {})[downstream_task_id] = dict(info)

    def get_edge_info(self, upstream_task_id: str, downstream_task_id: str) -> dict[str, Any]:
        return dict(self.edge_info.get(upstream_task_id, {}).get(downstream_task_id, {}))

    def add_tasks(self, tasks: Iterable[BaseOperator]) -> None:
        for task in tasks:
            self.add_task(task)

    @property
    def roots(self) -> list[BaseOperator]:
        return [task for task in self.task_dict.values() if not task.upstream_task_ids]

    @property
    def leaves(self) -> list[BaseOperator]:
        return [task for task in self.task_dict.values() if not task.downstream_task_ids]

    def topological_sort(self) -> list[BaseOperator]:
        """Tasks in dependency order, ties by task id; raises on a cycle."""
        self.check_cycle()
        return [self.task_dict[task_id] for task_id in topological_order(self.task_dict)]

    @property
    def owner(self) -> str:
        """The distinct owners of the DAG's tasks, comma-separated (sorted, for stability)."""
        owners = sorted({str(task.owner) for task in self.task_dict.values()})
        return ", ".join(owners) if owners else str(self.default_args.get("owner", "airflow"))

    @property
    def folder(self) -> str:
        return os.path.dirname(self.fileloc)

    # -- validation ------------------------------------------------------------------

    def check_cycle(self) -> None:
        cycle = find_cycle(self.task_dict)
        if cycle:
            raise AirflowDagCycleException(
                f"Cycle detected in DAG {self.dag_id!r}: {' >> '.join(cycle)}"
            )

    def validate(self) -> None:
        """Checks that need the finished DAG; the processor calls it after the import."""
        self.check_cycle()
        self._validate_params()
        if self.fail_fast:
            allowed = {TriggerRule.ALL_SUCCESS, TriggerRule.ALL_DONE_SETUP_SUCCESS}
            for task in self.task_dict.values():
                if task.trigger_rule not in allowed:
                    raise DagDefinitionError(
                        f"DAG {self.dag_id!r} has fail_fast=True, so task {task.task_id!r} may "
                        f"only use trigger rule all_success, not {task.trigger_rule.value!r}"
                    )

    def _validate_params(self) -> None:
        problems: dict[str, str] = {}
        for name, param in self.params.items():
            if param.value is NOTSET:
                # A scheduled run has no conf that could fill a param without default.
                types = param.schema.get("type", [])
                nullable = "null" in (types if isinstance(types, list) else [types])
                if self.timetable.can_be_scheduled and not nullable:
                    problems[name] = "has no default value, so the DAG's schedule must be None"
                continue
            problem = schema_problem(param.value, param.schema)
            if problem:
                problems[name] = f"default {param.value!r} is invalid: {problem}"
        if problems:
            listing = "; ".join(f"param {name!r} {problem}" for name, problem in problems.items())
            raise ParamValidationError(f"DAG {self.dag_id!r}: {listing}", problems)

    # -- params, templates, docs -----------------------------------------------------

    def param(self, name: str, default: Any = NOTSET) -> DagParam:
        """A placeholder for the run's value of param ``name`` (declared with ``default``)."""
        if default is not NOTSET:
            self.params[name] = default
        value = default.value if isinstance(default, Param) else default
        return DagParam(name, value)

    def get_template_env(self, *, force_sandboxed: bool = False) -> jinja2.Environment:
        """The Jinja environment of this DAG's tasks: files load from the DAG folder, then
        ``template_searchpath``."""
        return create_template_env(
            [self.folder, *self.template_searchpath],
            native=self.render_template_as_native_obj and not force_sandboxed,
            user_defined_macros=self.user_defined_macros,
            user_defined_filters=self.user_defined_filters,
            undefined=self.template_undefined,
            **(self.jinja_environment_kwargs or {}),
        )

    def get_doc_md(self) -> str | None:
        """``doc_md``, or the content of the ``.md`` file it names (Airflow's rule)."""
        doc = self.doc_md
        if self.doc_md_is_loaded or not doc or not doc.endswith(".md") or "\n" in doc:
            return doc
        env = self.get_template_env(force_sandboxed=True)
        try:
            return env.get_template(doc).render()
        except jinja2.TemplateNotFound:
            return doc


def _validate_tags(tags: Iterable[str] | None, dag_id: str) -> set[str]:
    if isinstance(tags, str):
        raise DagDefinitionError(f"DAG {dag_id!r}: tags must be a list of strings, not a string")
    result = set()
    for tag in tags or ():
        if not isinstance(tag, str) or len(tag) > TAG_MAX_LEN:
            raise DagDefinitionError(
                f"DAG {dag_id!r}: tag {tag!r} must be a string of at most {TAG_MAX_LEN} characters"
            )
        result.add(tag)
    return result
