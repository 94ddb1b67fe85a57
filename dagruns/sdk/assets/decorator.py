"""``@asset``: a function that produces an asset becomes a DAG with one task (Airflow 3's
``airflow.sdk.asset``): the DAG and the asset are named after the function, the task's
outlet is the asset, and the DAG runs on ``schedule``. ``@asset.multi(outlets=[...])`` is the
same with several outlets: one function, one task, an event for each outlet.

As in Airflow, the function's parameters other than ``self`` and ``context`` (without a
default) name its inlet assets: the task gets ``inlets=[Asset.ref(name=parameter)]`` and, when
it runs, each such parameter receives the asset of that name, read through the Execution API.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..exceptions import DagDefinitionError
from .definitions import Asset, AssetAlias, AssetRef, BaseAsset

# What the function's parameters may be called: the asset itself, and the task's context.
_KNOWN_PARAMETERS = ("self", "context")


class AssetDefinition(Asset):
    """The asset an ``@asset`` function produces; building it builds its DAG."""

    def __init__(
        self, *, function: Callable[..., Any], source: asset, name: str, **asset_kwargs: Any
    ) -> None:
        super().__init__(name=name, **asset_kwargs)
        self.function = function
        self.dag = _create_dag(
            function,
            outlets=[self],
            definition=self,
            schedule=source.schedule,
            dag_id=source.dag_id or self.name,
            dag_kwargs=source.dag_kwargs,
        )


class MultiAssetDefinition(BaseAsset):
    """What ``@asset.multi`` makes: the function's DAG, and, as in Airflow, an asset-like
    object standing for its outlets (``iter_assets`` and the rest go through them)."""

    def __init__(self, *, function: Callable[..., Any], source: asset.multi) -> None:
        self.function = function
        self.outlets = list(source.outlets)
        self.dag = _create_dag(
            function,
            outlets=self.outlets,
            definition=None,
            schedule=source.schedule,
            dag_id=source.dag_id or function.__name__,
            dag_kwargs=source.dag_kwargs,
        )

    def __repr__(self) -> str:
        return f"MultiAssetDefinition({self.function.__name__!r}, outlets={self.outlets!r})"

    def iter_assets(self) -> Iterator[Asset]:
        for outlet in self.outlets:
            yield from outlet.iter_assets()

    def iter_asset_aliases(self) -> Iterator[AssetAlias]:
        for outlet in self.outlets:
            yield from outlet.iter_asset_aliases()

    def iter_asset_refs(self) -> Iterator[AssetRef]:
        for outlet in self.outlets:
            yield from outlet.iter_asset_refs()

    def encode(self) -> dict[str, Any]:
        # Airflow cannot serialize it in a schedule either ("serialization not implemented").
        raise DagDefinitionError(
            f"@asset.multi {self.function.__name__!r} cannot be used in a schedule: schedule "
            "on its outlets instead"
        )


def _check_function(function: Callable[..., Any], decorator: str) -> None:
    """Airflow's checks of an asset function (``_validate_asset_function_arguments``)."""
    if function.__name__ != function.__qualname__:
        raise DagDefinitionError(
            f"{decorator} {function.__qualname__!r}: nested functions are not supported"
        )
    for name, parameter in inspect.signature(function).parameters.items():
        where = f"{decorator} {function.__name__!r}"
        if parameter.kind == inspect.Parameter.VAR_POSITIONAL:
            raise DagDefinitionError(f"{where}: wildcard '*{name}' is not supported in @asset")
        if parameter.kind == inspect.Parameter.VAR_KEYWORD:
            raise DagDefinitionError(f"{where}: wildcard '**{name}' is not supported in @asset")
        if (
            parameter.kind == inspect.Parameter.POSITIONAL_ONLY
            and parameter.default is inspect.Parameter.empty
        ):
            raise DagDefinitionError(
                f"{where}: positional-only argument '{name}' without a default is not "
                "supported in @asset"
            )


def _inlet_names(function: Callable[..., Any]) -> list[str]:
    """The parameters that name inlet assets: all but self/context and those with defaults."""
    return [
        name
        for name, parameter in inspect.signature(function).parameters.items()
        if name not in _KNOWN_PARAMETERS and parameter.default is inspect.Parameter.empty
    ]


def _fetch_asset(name: str) -> Asset:
    """The asset named `name`, from the process running the task (the task runner asks the
    Execution API)."""
    from .. import runtime
    from ..exceptions import AirflowException

    seam = runtime.current(f"the @asset inlet {name!r}")
    fetch = getattr(seam, "get_asset_by_name", None)
    if fetch is None:
        raise AirflowException(f"the @asset inlet {name!r} can only be read inside a task")
    found = fetch(name)
    return Asset(name=found["name"], uri=found["uri"], group=found["group"], extra=found["extra"])


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
        _check_function(function, "@asset")
        return AssetDefinition(
            function=function, source=self, name=self.name or function.__name__, **self.asset_kwargs
        )

    class multi:
        """``@asset.multi(outlets=[...], schedule=..., **dag_arguments)``: a one-task DAG
        whose task emits an event for each outlet."""

        def __init__(
            self,
            *,
            outlets: list[Any],
            schedule: Any,
            dag_id: str | None = None,
            **dag_kwargs: Any,
        ) -> None:
            if not outlets:
                raise DagDefinitionError("@asset.multi: no outlets provided")
            for outlet in outlets:
                if not isinstance(outlet, Asset | AssetAlias | AssetRef):
                    raise DagDefinitionError(
                        f"@asset.multi: outlets must be Asset, AssetAlias or Asset.ref() "
                        f"objects, got {outlet!r}"
                    )
            self.outlets = list(outlets)
            self.schedule = schedule
            self.dag_id = dag_id
            self.dag_kwargs = dag_kwargs

        def __call__(self, function: Callable[..., Any]) -> MultiAssetDefinition:
            _check_function(function, "@asset.multi")
            return MultiAssetDefinition(function=function, source=self)


def _create_dag(
    function: Callable[..., Any],
    *,
    outlets: list[Any],
    definition: AssetDefinition | None,
    schedule: Any,
    dag_id: str,
    dag_kwargs: Mapping[str, Any],
) -> Any:
    """The one-task DAG of an ``@asset`` or ``@asset.multi`` function (its task is named
    after the function; `self` is the asset of an ``@asset``, None for ``@asset.multi``)."""
    from ..dag import DAG
    from ..operators.python import PythonOperator
    from .accessors import drain_metadata

    class _AssetMainOperator(PythonOperator):
        custom_operator_name = "@asset"

        def execute(self, context: Mapping[str, Any]) -> Any:
            # Airflow's _AssetMainOperator.determine_kwargs: a default stays, `self` is the
            # asset, `context` the context, any other name the inlet asset of that name.
            kwargs: dict[str, Any] = {}
            for name, parameter in inspect.signature(function).parameters.items():
                if parameter.default is not inspect.Parameter.empty:
                    kwargs[name] = parameter.default
                elif name == "self":
                    kwargs[name] = definition
                elif name == "context":
                    kwargs[name] = context
                else:
                    kwargs[name] = _fetch_asset(name)
            result = function(**kwargs)
            if inspect.isgenerator(result):
                result = drain_metadata(result, context["outlet_events"], self.log)
            self.log.info("Done. Returned value was: %s", result)
            return result

    with DAG(
        dag_id,
        schedule=schedule,
        fileloc=inspect.getfile(function) or sys._getframe(2).f_code.co_filename,
        **dag_kwargs,
    ) as dag:
        _AssetMainOperator(
            task_id=function.__name__,
            python_callable=function,
            outlets=outlets,
            inlets=[Asset.ref(name=name) for name in _inlet_names(function)],
        )
    return dag
