"""``@dag``: turn a function into a DAG factory (Airflow's TaskFlow DAG decorator)."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any

from .dag import DAG


class _DagFactory:
    """What ``@dag`` returns: calling it builds (and auto-registers) the DAG."""

    def __init__(self, function: Callable[..., Any], dag_kwargs: dict[str, Any]):
        self.function = function
        self.dag_kwargs = dag_kwargs
        functools.update_wrapper(self, function)

    def __call__(self, *args: Any, **kwargs: Any) -> DAG:
        signature = inspect.signature(self.function)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        dag_kwargs = dict(self.dag_kwargs)
        dag_id = dag_kwargs.pop("dag_id", None) or self.function.__name__
        # The DAG belongs to the file that calls the factory, not to this module.
        dag_kwargs.setdefault("fileloc", sys._getframe(1).f_code.co_filename)
        with DAG(dag_id, **dag_kwargs) as dag_obj:
            if self.function.__doc__ and not dag_obj.doc_md:
                dag_obj.doc_md = inspect.cleandoc(self.function.__doc__)
            # Each argument becomes a DAG param (its value the default) and the body gets
            # a placeholder that resolves to the run's value of that param.
            placeholders = {
                name: dag_obj.param(name, value)
                for name, value in bound.arguments.items()
                if signature.parameters[name].kind in _NAMED_PARAMETERS
            }
            self.function(**placeholders)
        return dag_obj


_NAMED_PARAMETERS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def dag(dag_id: Any = None, **dag_kwargs: Any) -> Any:
    """Decorator turning a function into a DAG factory: ``@dag`` or ``@dag(schedule=...)``.

    The dag_id defaults to the function name and the docstring becomes ``doc_md``.
    """
    if callable(dag_id):
        return _DagFactory(dag_id, dag_kwargs)
    if dag_id is not None:
        dag_kwargs["dag_id"] = dag_id
    return lambda function: _DagFactory(function, dag_kwargs)
