"""PythonOperator: call a Python function, giving it the context keys it asks for."""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from ..baseoperator import BaseOperator
from ..exceptions import DagDefinitionError
from ..resolve import resolve_all

# Names a task function may declare to receive values from the run context (Airflow 3).
# A return value is logged up to this many characters (issue 10: a 5 MB value was written whole
# into the task's log). The XCom keeps the whole value.
MAX_LOGGED_RETURN_VALUE = 4096


def shown_return_value(value: Any) -> str:
    """The return value as the log shows it: its str(), cut at MAX_LOGGED_RETURN_VALUE."""
    text = str(value)
    if len(text) <= MAX_LOGGED_RETURN_VALUE:
        return text
    return (
        f"{text[:MAX_LOGGED_RETURN_VALUE]}... [truncated: {len(text)} characters, "
        f"over {MAX_LOGGED_RETURN_VALUE}]"
    )


KNOWN_CONTEXT_KEYS = frozenset(
    {
        "conn",
        "dag",
        "dag_run",
        "data_interval_end",
        "data_interval_start",
        "ds",
        "ds_nodash",
        "expanded_ti_count",
        "inlet_events",
        "inlets",
        "logical_date",
        "macros",
        "map_index_template",
        "outlet_events",
        "outlets",
        # Present, refusing every use (dagruns/sdk/unsupported.py): Airflow 3.3's state stores.
        "task_state_store",
        "asset_state_store",
        "params",
        "prev_data_interval_end_success",
        "prev_data_interval_start_success",
        "prev_end_date_success",
        "prev_start_date_success",
        "reason",
        "run_id",
        "start_date",
        "task",
        "task_instance",
        "task_instance_key_str",
        "task_reschedule_count",
        "templates_dict",
        "test_mode",
        "ti",
        "triggering_asset_events",
        "try_number",
        "ts",
        "ts_nodash",
        "ts_nodash_with_tz",
        "var",
    }
)


def determine_kwargs(
    function: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    """The keyword arguments ``function`` receives from ``kwargs`` (context merged with
    op_kwargs): all of them if it takes ``**kwargs``, else only the names it declares."""
    signature = inspect.signature(function)
    for name in itertools.islice(signature.parameters, len(args)):
        if name in kwargs:
            raise ValueError(
                f"The key {name!r} in args is a part of kwargs and therefore reserved."
            )
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
        return dict(kwargs)
    return {name: kwargs[name] for name in signature.parameters if name in kwargs}


class PythonOperator(BaseOperator):
    """Calls ``python_callable(*op_args, **op_kwargs)``.

    The callable also receives the context entries its signature names (``ds``, ``ti``,
    ``params`` ...), or the whole context if it takes ``**kwargs``. ``op_args``,
    ``op_kwargs`` and ``templates_dict`` are templated; XComArgs in them are pulled.
    """

    template_fields: Sequence[str] = ("templates_dict", "op_args", "op_kwargs")
    template_fields_renderers = {"templates_dict": "json", "op_args": "py", "op_kwargs": "py"}
    ui_color = "#ffefeb"

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        templates_dict: dict[str, Any] | None = None,
        templates_exts: Sequence[str] | None = None,
        show_return_value_in_logs: bool = True,
        **kwargs: Any,
    ):
        if not callable(python_callable):
            raise DagDefinitionError(
                f"{type(self).__name__} (task_id {kwargs.get('task_id')!r}): "
                "`python_callable` param must be callable"
            )
        super().__init__(**kwargs)
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        self.templates_dict = templates_dict
        if templates_exts:
            self.template_ext = tuple(templates_exts)
        self.show_return_value_in_logs = show_return_value_in_logs

    def execute(self, context: Mapping[str, Any]) -> Any:
        # Placeholders left unrendered (execute called without render_template_fields)
        # are resolved here, so the callable never sees an XComArg.
        self.op_args = resolve_all(self.op_args, context)
        self.op_kwargs = resolve_all(self.op_kwargs, context)
        self.templates_dict = resolve_all(self.templates_dict, context)
        merged = {**context, **self.op_kwargs, "templates_dict": self.templates_dict}
        kwargs = determine_kwargs(self.python_callable, self.op_args, merged)
        result = self.execute_callable(kwargs)
        if inspect.isgenerator(result):
            # A generator task yields Metadata for its outlets' events (Airflow 3).
            from ..assets.accessors import drain_metadata

            result = drain_metadata(result, context["outlet_events"], self.log)
        if inspect.iscoroutine(result):
            # An `async def` callable (Airflow 3.2+ runs them natively): its value is what the
            # coroutine returns, awaited here on a loop of its own (the task process has none).
            result = asyncio.run(result)
        if self.show_return_value_in_logs:
            self.log.info("Done. Returned value was: %s", shown_return_value(result))
        else:
            self.log.info("Done. Returned value not shown")
        return result

    def execute_callable(self, kwargs: Mapping[str, Any]) -> Any:
        return self.python_callable(*self.op_args, **kwargs)
