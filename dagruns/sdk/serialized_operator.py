"""SerializedOperator: a task rebuilt from the JSON form, for code that reads stored DAGs.

It carries every serialized attribute (so the scheduler can evaluate trigger rules,
pools, priorities, retries ...) but not the task's code: running a task means
re-importing the real DAG file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .assets.definitions import decode_condition
from .baseoperator import BaseOperator
from .exceptions import AirflowException
from .params import ParamsDict
from .timeutil import parse_isoformat

if TYPE_CHECKING:
    from .dag import DAG
    from .taskgroup import TaskGroup


def serialized_callback(*args: Any, **kwargs: Any) -> None:
    """Stands in for a callback of a deserialized DAG or task: the flag that one exists
    survives serialization, the code does not."""
    raise AirflowException("Callbacks of a deserialized DAG cannot run; re-import the DAG file")


def _td(value: float | None) -> timedelta | None:
    return timedelta(seconds=value) if value is not None else None


class SerializedOperator(BaseOperator):
    """A task as stored: ``task_type`` and ``operator_module`` name the original class,
    template fields hold their serialized (unrendered) values."""

    def __init__(
        self,
        *,
        task_type: str,
        operator_module: str,
        custom_operator_name: str | None = None,
        ui_color: str = "#fff",
        ui_fgcolor: str = "#000",
        template_fields: Sequence[str] = (),
        template_ext: Sequence[str] = (),
        template_fields_renderers: Mapping[str, str] | None = None,
        template_values: Mapping[str, Any] | None = None,
        inherits_from_empty_operator: bool = False,
        is_branch: bool = False,
        is_short_circuit: bool = False,
        ignore_downstream_trigger_rules: bool = False,
        is_mapped: bool = False,
        expand_input: Mapping[str, Any] | None = None,
        extra_fields: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ):
        # Class-level settings of the original operator become instance attributes here,
        # set before BaseOperator.__init__ because its post-init reads template_fields.
        self._task_type = task_type
        self._operator_module = operator_module
        self.custom_operator_name = custom_operator_name
        self.ui_color = ui_color
        self.ui_fgcolor = ui_fgcolor
        self.template_fields = tuple(template_fields)
        self.template_ext = tuple(template_ext)
        self.template_fields_renderers = dict(template_fields_renderers or {})
        self.template_values = dict(template_values or {})
        self.inherits_from_empty_operator = inherits_from_empty_operator
        self.is_branch = is_branch
        self.is_short_circuit = is_short_circuit
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules
        self._is_mapped = is_mapped
        self._expand_input = dict(expand_input) if expand_input is not None else None
        self.extra_fields = dict(extra_fields or {})
        self.start_from_trigger_data: dict[str, Any] = {}
        super().__init__(**kwargs)
        for field in self.template_fields:
            # Expose each field as the original operator did (op.bash_command), unless the
            # name would shadow a BaseOperator attribute.
            if not hasattr(BaseOperator, field) and field not in self.__dict__:
                object.__setattr__(self, field, self.template_values.get(field))

    @property
    def task_type(self) -> str:
        return self._task_type

    @property
    def operator_module(self) -> str:
        return self._operator_module

    @property
    def is_mapped(self) -> bool:
        return self._is_mapped

    def serialize_expand_input(self) -> dict[str, Any] | None:
        return self._expand_input

    def execute(self, context: Mapping[str, Any]) -> Any:
        raise AirflowException(
            f"Task {self.task_id!r} ({self._task_type}) was loaded from its serialized form "
            "and cannot run; the task runner re-imports the DAG file"
        )

    @classmethod
    def from_serialized(
        cls, data: Mapping[str, Any], dag: DAG, task_group: TaskGroup
    ) -> SerializedOperator:
        """Build the task described by one entry of a serialized DAG's ``tasks``."""

        def callback(flag: str) -> Any:
            return serialized_callback if data.get(flag) else None

        task = cls(
            task_id=data["label"],
            dag=dag,
            task_group=task_group,
            task_type=data["task_type"],
            operator_module=data["operator_module"],
            custom_operator_name=data.get("custom_operator_name"),
            ui_color=data.get("ui_color", "#fff"),
            ui_fgcolor=data.get("ui_fgcolor", "#000"),
            template_fields=data.get("template_fields", ()),
            template_ext=data.get("template_ext", ()),
            template_fields_renderers=data.get("template_fields_renderers"),
            template_values=data.get("template_values"),
            inherits_from_empty_operator=data.get("inherits_from_empty_operator", False),
            is_branch=data.get("is_branch", False),
            is_short_circuit=data.get("is_short_circuit", False),
            ignore_downstream_trigger_rules=data.get("ignore_downstream_trigger_rules", False),
            is_mapped=data.get("is_mapped", False),
            expand_input=data.get("expand_input"),
            extra_fields=data.get("extra_fields"),
            map_index_template=data.get("map_index_template"),
            owner=data.get("owner", "airflow"),
            email=data.get("email"),
            email_on_retry=data.get("email_on_retry", True),
            email_on_failure=data.get("email_on_failure", True),
            retries=data.get("retries", 0),
            retry_delay=_td(data.get("retry_delay", 300.0)),
            retry_exponential_backoff=data.get("retry_exponential_backoff", False),
            max_retry_delay=_td(data.get("max_retry_delay")),
            execution_timeout=_td(data.get("execution_timeout")),
            start_date=parse_isoformat(data.get("start_date")),
            end_date=parse_isoformat(data.get("end_date")),
            depends_on_past=data.get("depends_on_past", False),
            ignore_first_depends_on_past=data.get("ignore_first_depends_on_past", True),
            wait_for_downstream=data.get("wait_for_downstream", False),
            params=ParamsDict.deserialize(data.get("params") or {}),
            priority_weight=data.get("priority_weight", 1),
            weight_rule=data.get("weight_rule", "downstream"),
            queue=data.get("queue", "default"),
            pool=data.get("pool"),
            pool_slots=data.get("pool_slots", 1),
            max_active_tis_per_dag=data.get("max_active_tis_per_dag"),
            max_active_tis_per_dagrun=data.get("max_active_tis_per_dagrun"),
            executor=data.get("executor"),
            executor_config=data.get("executor_config"),
            do_xcom_push=data.get("do_xcom_push", True),
            multiple_outputs=data.get("multiple_outputs", False),
            doc_md=data.get("doc_md"),
            trigger_rule=data.get("trigger_rule", "all_success"),
            is_setup=data.get("is_setup", False),
            is_teardown=data.get("is_teardown", False),
            on_failure_fail_dagrun=data.get("on_failure_fail_dagrun", False),
            task_display_name=data.get("task_display_name"),
            on_execute_callback=callback("has_on_execute_callback"),
            on_success_callback=callback("has_on_success_callback"),
            on_failure_callback=callback("has_on_failure_callback"),
            on_retry_callback=callback("has_on_retry_callback"),
            inlets=[decode_condition(item) for item in data.get("inlets") or []],
            outlets=[decode_condition(item) for item in data.get("outlets") or []],
        )
        # start_from_trigger (dagruns/sdk/start_trigger.py), kept as stored.
        task.start_from_trigger_data = {
            key: data[key] for key in ("start_trigger_args", "start_from_trigger") if key in data
        }
        return task
