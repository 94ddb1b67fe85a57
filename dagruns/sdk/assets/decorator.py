"""``@asset``: a function that produces an asset becomes a DAG with one task (Airflow 3's
``airflow.sdk.asset``): the DAG and the asset are named after the function, the task's
outlet is the asset, and the DAG runs on ``schedule``."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Mapping
from typing import Any

from ..exceptions import DagDefinitionError
from .definitions import Asset

# What the function's parameters may be called: the asset itself, and the task's context.
_KNOWN_PARAMETERS = ("self", "context")


class AssetDefinition(Asset):
    """The asset an ``@asset`` function produces; building it builds its DAG."""

    def __init__(
        self, *, function: Callable[..., Any], source: asset, name: str, **asset_kwargs: Any
    ) -> None:
        super().__init__(name=name, **asset_kwargs)
        self.function = function
        self.dag = source.create_dag(self, fileloc=inspect.getfile(function))


class asset:
    """``@asset(schedule=..., uri=..., group=..., extra=..., **dag_arguments)``."""

    def __init__(
        self,
        *,
        schedule: Any,
        name: str | None = None,
        uri: str | None = None,
        group: str | None = None,
        extra: dict[str, Any] | None = None,
        watchers: list[Any] | None = None,
        dag_id: str | None = None,
        **dag_kwargs: Any,
    ) -> None:
        self.schedule = schedule
        self.asset_kwargs: dict[str, Any] = {
            "uri": uri,
            "group": group,
            "extra": extra,
            "watchers": watchers,
        }
        self.name = name
        self.dag_id = dag_id
        self.dag_kwargs = dag_kwargs

    def __call__(self, function: Callable[..., Any]) -> AssetDefinition:
        if function.__name__ != function.__qualname__:
            raise DagDefinitionError(
                f"@asset {function.__qualname__!r}: nested functions are not supported"
            )
        unknown = [
            name
            for name, parameter in inspect.signature(function).parameters.items()
            if name not in _KNOWN_PARAMETERS and parameter.default is inspect.Parameter.empty
        ]
        if unknown:
            raise DagDefinitionError(
                f"@asset {function.__name__!r}: parameters {unknown} are not supported (an "
                "@asset function may take `self` and `context`; inlet assets by parameter name "
                "are not supported yet: use inlet_events from the context)"
            )
        return AssetDefinition(
            function=function, source=self, name=self.name or function.__name__, **self.asset_kwargs
        )

    def create_dag(self, definition: AssetDefinition, fileloc: str) -> Any:
        from ..dag import DAG
        from ..operators.python import PythonOperator
        from .accessors import drain_metadata

        class _AssetMainOperator(PythonOperator):
            custom_operator_name = "@asset"

            def execute(self, context: Mapping[str, Any]) -> Any:
                # The function takes the asset (`self`) and the context by name, nothing else.
                kwargs = {
                    name: definition if name == "self" else context
                    for name in inspect.signature(definition.function).parameters
                    if name in _KNOWN_PARAMETERS
                }
                result = definition.function(**kwargs)
                if inspect.isgenerator(result):
                    result = drain_metadata(result, context["outlet_events"], self.log)
                self.log.info("Done. Returned value was: %s", result)
                return result

        with DAG(
            self.dag_id or definition.name,
            schedule=self.schedule,
            fileloc=fileloc or sys._getframe(2).f_code.co_filename,
            **self.dag_kwargs,
        ) as dag:
            _AssetMainOperator(
                task_id=definition.function.__name__,
                python_callable=definition.function,
                outlets=[definition],
            )
        return dag
