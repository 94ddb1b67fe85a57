"""BaseOperator: one task of a DAG, with Airflow's arguments, defaults and graph API."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from .context import current_dag, current_task_group
from .defaults import (
    DEFAULT_OWNER,
    DEFAULT_POOL,
    DEFAULT_POOL_SLOTS,
    DEFAULT_PRIORITY_WEIGHT,
    DEFAULT_QUEUE,
    DEFAULT_RETRIES,
    DEFAULT_RETRY_DELAY,
    DEFAULT_TRIGGER_RULE,
    DEFAULT_WEIGHT_RULE,
    apply_defaults,
)
from .exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowSkipException,
    DagDefinitionError,
    TaskDeferralError,
    TaskDeferralTimeout,
    TaskDeferred,
    TemplateRenderError,
    TriggerFailureReason,
)
from .ids import validate_key
from .params import ParamsDict
from .retry_policy import RetryPolicy
from .taskmixin import TaskMixin
from .templating import create_template_env, render_template
from .timeutil import to_timedelta, to_utc
from .trigger_rule import TriggerRule
from .triggers.base import StartTriggerArgs
from .unsupported import refuse_operator_args
from .weight_rule import WeightRule
from .xcom_arg import iter_xcom_args

if TYPE_CHECKING:
    import jinja2

    from .dag import DAG
    from .mappedoperator import OperatorPartial
    from .taskgroup import TaskGroup


# Airflow's names for the executors we have (class names, import paths): an Airflow DAG file's
# `executor="CeleryExecutor"` asks for our `celery`.
EXECUTOR_ALIASES = {
    "LocalExecutor": "local",
    "airflow.executors.local_executor.LocalExecutor": "local",
    "CeleryExecutor": "celery",
    "airflow.providers.celery.executors.celery_executor.CeleryExecutor": "celery",
}


class BaseOperator(TaskMixin):
    """A task: subclasses implement ``execute(context)`` and declare ``template_fields``.

    Arguments are keyword-only and match Airflow's; any argument the constructor takes
    can come from the DAG's (or task group's) ``default_args``. Created inside
    ``with DAG(...)`` (or given ``dag=``) the task adds itself to the DAG at once, so a
    duplicate task_id fails on the author's own line.
    """

    template_fields: Sequence[str] = ()
    template_ext: Sequence[str] = ()
    template_fields_renderers: dict[str, str] = {}
    ui_color: str = "#fff"
    ui_fgcolor: str = "#000"
    # Shown instead of the class name in the UI (e.g. "@task" for TaskFlow tasks).
    custom_operator_name: str | None = None
    # Flags the scheduler reads from the serialized DAG.
    inherits_from_empty_operator: bool = False
    is_branch: bool = False
    is_short_circuit: bool = False
    ignore_downstream_trigger_rules: bool = False
    # Airflow's start_from_trigger: an operator class that can start in the triggerer declares
    # its StartTriggerArgs; a task whose start_from_trigger is true (class attribute, or set by
    # the operator's __init__) is deferred by the scheduler without running execute().
    start_trigger_args: StartTriggerArgs | None = None
    start_from_trigger: bool = False

    # Instance attributes, declared (annotations only, no class values) so type checkers and
    # editors see them; __init__ sets the plain ones in one __dict__.update for speed.
    task_id: str
    owner: str
    email: str | Iterable[str] | None
    email_on_retry: bool
    email_on_failure: bool
    retries: int
    retry_delay: timedelta | None
    retry_exponential_backoff: bool
    retry_policy: RetryPolicy | None
    max_retry_delay: timedelta | None
    execution_timeout: timedelta | None
    start_date: datetime | None
    end_date: datetime | None
    depends_on_past: bool
    ignore_first_depends_on_past: bool
    wait_for_downstream: bool
    queue: str
    pool: str
    pool_slots: int
    priority_weight: int
    max_active_tis_per_dag: int | None
    max_active_tis_per_dagrun: int | None
    executor: str | None
    executor_config: dict[str, Any]
    do_xcom_push: bool
    multiple_outputs: bool
    doc_md: str | None
    on_execute_callback: Any
    on_failure_callback: Any
    on_success_callback: Any
    on_retry_callback: Any
    on_failure_fail_dagrun: bool
    map_index_template: str | None
    params: ParamsDict
    upstream_task_ids: set[str]
    downstream_task_ids: set[str]
    task_group: TaskGroup | None
    _dag: DAG | None
    _is_setup: bool
    _is_teardown: bool
    _trigger_rule: TriggerRule
    _weight_rule: WeightRule

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if isinstance(cls.__dict__.get("template_fields"), str):
            # template_fields = ("sql") is a classic typo for ("sql",)
            cls.template_fields = (cls.__dict__["template_fields"],)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "__wrapped_by_apply_defaults__", False):
            cls.__init__ = apply_defaults(init)  # type: ignore[method-assign]

    def __init__(
        self,
        *,
        task_id: str,
        owner: str = DEFAULT_OWNER,
        email: str | Iterable[str] | None = None,
        email_on_retry: bool = True,
        email_on_failure: bool = True,
        retries: int | None = DEFAULT_RETRIES,
        retry_delay: timedelta | float = DEFAULT_RETRY_DELAY,
        retry_exponential_backoff: bool = False,
        max_retry_delay: timedelta | float | None = None,
        retry_policy: RetryPolicy | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        depends_on_past: bool = False,
        ignore_first_depends_on_past: bool = True,
        wait_for_downstream: bool = False,
        dag: DAG | None = None,
        task_group: TaskGroup | None = None,
        params: Mapping[str, Any] | None = None,
        default_args: dict[str, Any] | None = None,
        priority_weight: int = DEFAULT_PRIORITY_WEIGHT,
        weight_rule: str = DEFAULT_WEIGHT_RULE,
        queue: str = DEFAULT_QUEUE,
        pool: str | None = None,
        pool_slots: int = DEFAULT_POOL_SLOTS,
        execution_timeout: timedelta | float | None = None,
        on_execute_callback: Any = None,
        on_failure_callback: Any = None,
        on_success_callback: Any = None,
        on_retry_callback: Any = None,
        pre_execute: Any = None,
        post_execute: Any = None,
        trigger_rule: str = DEFAULT_TRIGGER_RULE,
        max_active_tis_per_dag: int | None = None,
        max_active_tis_per_dagrun: int | None = None,
        executor: str | None = None,
        executor_config: dict[str, Any] | None = None,
        do_xcom_push: bool = True,
        multiple_outputs: bool = False,
        doc_md: str | None = None,
        is_setup: bool = False,
        is_teardown: bool = False,
        on_failure_fail_dagrun: bool = False,
        task_display_name: str | None = None,
        map_index_template: str | None = None,
        inlets: Any = None,
        outlets: Any = None,
        **kwargs: Any,
    ):
        refuse_operator_args(type(self).__name__, task_id, kwargs)  # nothing is ignored
        validate_key(task_id, "task_id")
        dag = dag or current_dag()
        task_group = task_group or current_task_group(dag)
        if dag is None and task_group is not None:
            dag = task_group.dag
        if task_group is not None and dag is not None and task_group.dag is not dag:
            raise DagDefinitionError(f"Task {task_id!r}: cannot mix TaskGroups from different DAGs")
        self.task_id = validate_key(
            task_group.child_id(task_id) if task_group else task_id, "task_id"
        )
        where = f"Task {self.task_id!r}" + (f" in DAG {dag.dag_id!r}" if dag else "")

        # Checked first, so a bad rule fails before the task joins the DAG.
        _check_rule(TriggerRule, trigger_rule, "trigger_rule", where)
        _check_rule(WeightRule, weight_rule, "weight_rule", where)
        self.retries = _non_negative_int(0 if retries is None else retries, "retries", where)
        self.priority_weight = _int(priority_weight, "priority_weight", where)
        self.pool_slots = _int(pool_slots, "pool_slots", where)
        if self.pool_slots < 1:
            raise DagDefinitionError(f"{where}: pool_slots cannot be less than 1, got {pool_slots}")
        if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            raise DagDefinitionError(
                f"{where}: retry_policy must be a RetryPolicy (e.g. ExceptionRetryPolicy), got "
                f"{type(retry_policy).__name__}: {retry_policy!r}"
            )
        if executor is not None and (not isinstance(executor, str) or not executor.strip()):
            raise DagDefinitionError(
                f"{where}: executor must be the name of an executor (a non-empty string), "
                f"got {executor!r}"
            )

        # Plain attributes in one go: before _post_init the __setattr__ hook has nothing to do,
        # and a task runner re-creates every operator of its DAG file on each try.
        self.__dict__.update(
            owner=owner,
            email=email,
            email_on_retry=email_on_retry,
            email_on_failure=email_on_failure,
            retry_delay=to_timedelta(retry_delay, "retry_delay"),
            retry_exponential_backoff=retry_exponential_backoff,
            max_retry_delay=to_timedelta(max_retry_delay, "max_retry_delay"),
            # Evaluated by the task runner when a try fails; not serialized: the runner
            # re-imports the DAG file, and nothing else needs it.
            retry_policy=retry_policy,
            execution_timeout=to_timedelta(execution_timeout, "execution_timeout"),
            start_date=to_utc(start_date, "start_date"),
            end_date=to_utc(end_date, "end_date"),
            depends_on_past=bool(depends_on_past) or bool(wait_for_downstream),
            ignore_first_depends_on_past=ignore_first_depends_on_past,
            wait_for_downstream=wait_for_downstream,
            queue=queue,
            pool=pool or DEFAULT_POOL,
            max_active_tis_per_dag=max_active_tis_per_dag,
            max_active_tis_per_dagrun=max_active_tis_per_dagrun,
            # Which configured executor runs the task (None: the default, the first of
            # ORCH_EXECUTOR); the DAG processor refuses a name that is not configured.
            executor=_executor_name(executor),
            executor_config=executor_config or {},
            do_xcom_push=do_xcom_push,
            multiple_outputs=multiple_outputs,
            doc_md=doc_md,
            on_execute_callback=on_execute_callback,
            on_failure_callback=on_failure_callback,
            on_success_callback=on_success_callback,
            on_retry_callback=on_retry_callback,
            # Airflow's pre_execute= / post_execute= callables, run by the task runner around
            # execute() (pre_execute(context), post_execute(context, result)).
            _pre_execute_hook=_hook(pre_execute, "pre_execute", where),
            _post_execute_hook=_hook(post_execute, "post_execute", where),
            on_failure_fail_dagrun=on_failure_fail_dagrun,
            _task_display_name=_display_name(task_display_name, where),
            # Rendered after execute() with the context of a mapped instance: the name the
            # UI shows for the instance (Airflow's rendered_map_index).
            map_index_template=_map_index_template(map_index_template, where),
            _is_setup=False,
            _is_teardown=False,
            inlets=_asset_list(inlets, "inlets", where),
            outlets=_asset_list(outlets, "outlets", where),
        )
        # These go through their property setters (validation, derived state).
        self.trigger_rule = trigger_rule
        self.weight_rule = weight_rule
        self.is_setup = is_setup
        self.is_teardown = is_teardown

        # Task params: the DAG's, then default_args' "params", then the task's own.
        self.params = ParamsDict(dag.params.copy() if dag is not None else None)
        self.params.update((default_args or {}).get("params") or {})
        self.params.update(params or {})

        self.upstream_task_ids = set()
        self.downstream_task_ids = set()
        self.task_group = task_group
        self._dag = None
        if dag is not None:
            dag.add_task(self)

    def pre_execute(self, context: Any) -> None:
        """Airflow's: runs right before execute() (after the `pre_execute=` callable);
        override it in an operator."""

    def post_execute(self, context: Any, result: Any = None) -> None:
        """Airflow's: runs right after execute() (after the `post_execute=` callable);
        override it in an operator. Airflow 3's runner passes the context alone, so does
        ours: `result` is None here."""

    @property
    def task_display_name(self) -> str:
        """The name the UI and the REST API show (Airflow's): task_display_name, else task_id."""
        return self.__dict__.get("_task_display_name") or self.task_id

    def _post_init(self) -> None:
        """Runs once after the outermost constructor: every field is set by now."""
        for field in self.template_fields:
            if not hasattr(self, field):
                raise DagDefinitionError(
                    f"{type(self).__name__} declares template field {field!r} but has no such attribute"
                )
            self._depend_on_xcom_args(getattr(self, field))
        object.__setattr__(self, "_initialized", True)

    def __setattr__(self, key: str, value: Any) -> None:
        # Runs for every attribute set in __init__ too, and a task runner re-creates every
        # operator of the DAG file on each try: keep it to the bare minimum.
        object.__setattr__(self, key, value)
        # An XComArg assigned to a template field after construction still adds its edge.
        if key in self.template_fields and "_initialized" in self.__dict__:
            self._depend_on_xcom_args(value)

    def _depend_on_xcom_args(self, value: Any) -> None:
        for arg in iter_xcom_args(value):
            for operator, _ in arg.iter_references():
                self.set_upstream(operator)

    # -- dynamic task mapping (dagruns/sdk/mappedoperator.py) --------------------------

    @classmethod
    def partial(cls, **kwargs: Any) -> OperatorPartial:
        """``Op.partial(task_id=..., **fixed).expand(**mapped)``: one task instance per
        mapped value (Airflow's dynamic task mapping)."""
        from .mappedoperator import OperatorPartial

        return OperatorPartial(cls, kwargs)

    @property
    def mapped_task_group(self) -> TaskGroup | None:
        """The nearest enclosing mapped task group, if any."""
        group = self.task_group
        return group.enclosing_mapped_group() if group is not None else None

    @property
    def is_mapped(self) -> bool:
        """Whether the task runs as map-indexed instances (expanded, or in a mapped group)."""
        return self.mapped_task_group is not None

    def serialize_expand_input(self) -> dict[str, Any] | None:
        """What the task itself expands over, in JSON form (None: not expanded itself)."""
        return None

    def __repr__(self) -> str:
        return f"<Task({type(self).__name__}): {self.task_id}>"

    @property
    def trigger_rule(self) -> TriggerRule:
        return self._trigger_rule

    @trigger_rule.setter
    def trigger_rule(self, value: str) -> None:
        self._trigger_rule = TriggerRule(
            _check_rule(TriggerRule, value, "trigger_rule", repr(self))
        )

    @property
    def weight_rule(self) -> WeightRule:
        return self._weight_rule

    @weight_rule.setter
    def weight_rule(self, value: str) -> None:
        self._weight_rule = WeightRule(_check_rule(WeightRule, value, "weight_rule", repr(self)))

    @property
    def log(self) -> logging.Logger:
        # Airflow's logger naming, so "airflow.task" logging config keeps working.
        return logging.getLogger(
            f"airflow.task.operators.{type(self).__module__}.{type(self).__name__}"
        )

    # -- DAG membership --------------------------------------------------------------

    @property
    def dag(self) -> DAG:
        if self._dag is None:
            raise AirflowException(f"Operator {self!r} has not been assigned to a DAG yet")
        return self._dag

    @dag.setter
    def dag(self, dag: DAG) -> None:
        if self._dag is dag:
            return
        if self._dag is not None:
            raise DagDefinitionError(f"The DAG assigned to {self!r} can not be changed.")
        dag.add_task(self)

    def has_dag(self) -> bool:
        return self._dag is not None

    def get_dag(self) -> DAG | None:
        return self._dag

    @property
    def dag_id(self) -> str:
        return self._dag.dag_id if self._dag is not None else f"adhoc_{self.owner}"

    @property
    def node_id(self) -> str:
        return self.task_id

    @property
    def task_type(self) -> str:
        """The operator's class name, as the UI and the serialized form show it."""
        return type(self).__name__

    @property
    def operator_module(self) -> str:
        return type(self).__module__

    @property
    def label(self) -> str:
        """The task id without its task group prefix, as the graph view shows it."""
        group = self.task_group
        if group is not None and group.group_id and group.prefix_group_id:
            return self.task_id[len(group.group_id) + 1 :]
        return self.task_id

    # -- callbacks -------------------------------------------------------------------

    @property
    def has_on_execute_callback(self) -> bool:
        return bool(self.on_execute_callback)

    @property
    def has_on_success_callback(self) -> bool:
        return bool(self.on_success_callback)

    @property
    def has_on_failure_callback(self) -> bool:
        return bool(self.on_failure_callback)

    @property
    def has_on_retry_callback(self) -> bool:
        return bool(self.on_retry_callback)

    # -- running ---------------------------------------------------------------------

    def execute(self, context: Mapping[str, Any]) -> Any:
        """Do the task's work; the return value is pushed as the ``return_value`` XCom."""
        raise NotImplementedError(f"{type(self).__name__} must implement execute(context)")

    def defer(
        self,
        *,
        trigger: Any,
        method_name: str,
        kwargs: dict[str, Any] | None = None,
        timeout: timedelta | int | float | None = None,
    ) -> NoReturn:
        """End this try `deferred` until `trigger` fires; the task then resumes in a new
        process at `method_name(context, event=payload, **kwargs)`. `timeout` fails the
        task if the trigger has not fired by then."""
        raise TaskDeferred(trigger=trigger, method_name=method_name, kwargs=kwargs, timeout=timeout)

    def resume_execution(
        self, next_method: str, next_kwargs: dict[str, Any] | None, context: Mapping[str, Any]
    ) -> Any:
        """Where a resumed try starts (Airflow's): `next_method` with `next_kwargs`, or, for
        the "__fail__" the triggerer sets when the trigger failed or timed out, the error."""
        if next_method == "__fail__":
            details = next_kwargs or {}
            traceback_lines = details.get("traceback")
            if traceback_lines:
                self.log.error("Trigger failed:\n%s", "\n".join(traceback_lines))
            error = details.get("error", "Unknown")
            if error == TriggerFailureReason.TRIGGER_TIMEOUT:
                raise TaskDeferralTimeout(error)
            raise TaskDeferralError(error)
        method = getattr(self, next_method, None)
        if not callable(method):
            raise AirflowException(
                f"Task {self.task_id!r} deferred with method_name={next_method!r}, but "
                f"{type(self).__name__} has no such method"
            )
        return method(context, **(next_kwargs or {}))

    def on_kill(self) -> None:
        """Called by the runner when the task is killed (timeout, user action);
        operators that start processes override it to stop them."""

    def get_template_env(self) -> jinja2.Environment:
        return self._dag.get_template_env() if self._dag is not None else create_template_env()

    def render_template(
        self, content: Any, context: Mapping[str, Any], jinja_env: jinja2.Environment | None = None
    ) -> Any:
        env = jinja_env or self.get_template_env()
        return render_template(content, context, env, self.template_ext)

    def render_template_fields(
        self, context: Mapping[str, Any], jinja_env: jinja2.Environment | None = None
    ) -> None:
        """Render every template field in place; errors name the task and the field."""
        env = jinja_env or self.get_template_env()
        for field in self.template_fields:
            value = getattr(self, field)
            try:
                rendered = render_template(value, context, env, self.template_ext)
            except (AirflowSkipException, AirflowFailException):
                raise
            except Exception as err:
                raise TemplateRenderError(
                    f"Could not render template field {field!r} of task {self.task_id!r}: "
                    f"{type(err).__name__}: {err}"
                ) from err
            setattr(self, field, rendered)


def _check_rule(
    rules: type[TriggerRule] | type[WeightRule], value: Any, name: str, where: str
) -> Any:
    if not rules.is_valid(value):
        valid = sorted(rule.value for rule in rules)
        raise DagDefinitionError(
            f"{where}: unknown {name} {value!r}; valid values are: {', '.join(valid)}"
        )
    return value


def _int(value: Any, name: str, where: str) -> int:
    # Airflow converts "3" (e.g. from an env var) to 3; anything not integral is an error.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise DagDefinitionError(
        f"{where}: {name!r} must be an int, got {type(value).__name__}: {value!r}"
    )


def _non_negative_int(value: Any, name: str, where: str) -> int:
    parsed = _int(value, name, where)
    if parsed < 0:
        raise DagDefinitionError(f"{where}: {name!r} cannot be negative, got {parsed}")
    return parsed


BaseOperator.__init__ = apply_defaults(BaseOperator.__init__)  # type: ignore[method-assign]


def _executor_name(executor: str | None) -> str | None:
    if executor is None:
        return None
    executor = executor.strip()
    return EXECUTOR_ALIASES.get(executor, executor)


def _display_name(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise DagDefinitionError(
            f"{where}: task_display_name must be a string, got {type(value).__name__}"
        )
    return value or None


def _map_index_template(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise DagDefinitionError(
            f"{where}: map_index_template must be a string, got {type(value).__name__}"
        )
    return value


def _asset_list(value: Any, argument: str, where: str) -> list[Any]:
    """``inlets=``/``outlets=``: one or a list of Asset / AssetAlias / ``Asset.ref(...)``
    (Airflow also takes lineage objects of other kinds, which nothing here would read:
    refused by name)."""
    from .assets.definitions import Asset, AssetAlias, AssetRef

    if value is None:
        return []
    items = list(value) if isinstance(value, list | tuple) else [value]
    for item in items:
        if not isinstance(item, Asset | AssetAlias | AssetRef):
            raise DagDefinitionError(
                f"{where}: {argument} must be Asset, AssetAlias or Asset.ref() objects, got {item!r} "
                "(other lineage objects are not supported)"
            )
    return items


def _hook(value: Any, name: str, where: str) -> Any:
    if value is not None and not callable(value):
        raise DagDefinitionError(
            f"{where}: {name} must be a callable (or None), got {type(value).__name__}"
        )
    return value
