"""Which DAGs a DAG file defines: the auto-registration registry and ``collect_dags``.

A ``with DAG(...)`` block (and calling a ``@dag`` function, which uses one) registers the
DAG when the block ends. The processor imports one file inside ``capture_dags()`` and
calls ``collect_dags(vars(module))`` to get exactly that file's DAGs, then
``dag.validate()`` on each (cycles can only be found once the file has finished).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .exceptions import AirflowDagDuplicatedIdException

if TYPE_CHECKING:
    from .dag import DAG

# A stack so that capture_dags() blocks nest; the bottom list collects DAGs created
# outside any capture (e.g. in a plain `python dag_file.py`).
_registries: list[list[DAG]] = [[]]


def register(dag: DAG) -> None:
    registry = _registries[-1]
    if not any(known is dag for known in registry):
        registry.append(dag)


def auto_registered_dags() -> list[DAG]:
    """DAGs registered since the innermost capture_dags() began (or the last reset)."""
    return list(_registries[-1])


def reset_auto_registered() -> None:
    """Forget the DAGs registered so far in the current capture (or globally)."""
    _registries[-1].clear()


@contextlib.contextmanager
def capture_dags() -> Iterator[list[DAG]]:
    """Collect the DAGs registered inside the block into a fresh list (yielded), leaving
    the registrations made outside the block untouched."""
    captured: list[DAG] = []
    _registries.append(captured)
    try:
        yield captured
    finally:
        # By identity: list.remove() compares by value, and two empty lists are equal.
        index = next(i for i, registry in enumerate(_registries) if registry is captured)
        del _registries[index]


def collect_dags(
    module_globals: Mapping[str, Any], auto_registered: Iterable[DAG] | None = None
) -> list[DAG]:
    """The DAGs of one imported DAG file: DAG objects among its globals plus those
    auto-registered while it was imported (``auto_registered``, by default the current
    capture's registrations).

    Each DAG's ``fileloc`` becomes the module's ``__file__``, as Airflow does for a
    DAG built by a helper in another module. Two different DAG objects with one dag_id
    raise AirflowDagDuplicatedIdException (Airflow silently keeps the last one).
    """
    from .dag import DAG  # dag.py imports this module for register()

    registered = _registries[-1] if auto_registered is None else auto_registered
    candidates = [value for value in module_globals.values() if isinstance(value, DAG)]
    candidates.extend(registered)
    found: dict[str, DAG] = {}
    for dag in candidates:
        known = found.get(dag.dag_id)
        if known is None:
            found[dag.dag_id] = dag
        elif known is not dag:
            raise AirflowDagDuplicatedIdException(
                f"DAG id {dag.dag_id!r} is defined twice in {module_globals.get('__file__', 'this file')}"
            )
    fileloc = module_globals.get("__file__")
    if fileloc:
        for dag in found.values():
            dag.fileloc = str(fileloc)
    return list(found.values())
