"""PythonSensor: wait until a Python callable returns something truthy (the standard
provider's ``sensors.python``)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from ..exceptions import DagDefinitionError
from ..operators.python import determine_kwargs
from ..resolve import resolve_all
from .base import BaseSensorOperator, PokeReturnValue


class PythonSensor(BaseSensorOperator):
    """Pokes ``python_callable(*op_args, **op_kwargs)``, which receives the context entries
    its signature names; a truthy result (or a PokeReturnValue that is done) ends the wait."""

    template_fields: Sequence[str] = ("templates_dict", "op_args", "op_kwargs")

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        templates_dict: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
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

    def poke(self, context: Mapping[str, Any]) -> PokeReturnValue:
        op_args = resolve_all(self.op_args, context)
        op_kwargs = resolve_all(self.op_kwargs, context)
        templates_dict = resolve_all(self.templates_dict, context)
        merged = {**context, **op_kwargs, "templates_dict": templates_dict}
        kwargs = determine_kwargs(self.python_callable, op_args, merged)
        self.log.info("Poking callable: %s", self.python_callable)
        value = self.python_callable(*op_args, **kwargs)
        if isinstance(value, PokeReturnValue):
            return value
        return PokeReturnValue(bool(value))
