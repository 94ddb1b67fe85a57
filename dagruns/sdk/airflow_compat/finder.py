"""A meta-path finder that makes ``import airflow...`` resolve to our SDK, from `table.MODULES`.

Each ``airflow.*`` module is synthesized on first import: an empty module whose
``__getattr__`` looks a name up in the table and fetches it from our SDK at that moment (so
names added to the SDK later resolve as soon as they exist). A name or module the table does not
offer is an ImportError saying so, raised at the DAG file's own import line.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence
from typing import Any

from .table import MODULES, REFUSED

ROOT = "airflow"


class NotSupportedByOrchestrator(ImportError):
    """An Airflow name or module that orchestrator does not provide (yet)."""


def not_supported(qualified_name: str) -> NotSupportedByOrchestrator:
    module, _, name = qualified_name.rpartition(".")
    reason = REFUSED.get(qualified_name)
    if reason is not None:
        return NotSupportedByOrchestrator(
            f"`{qualified_name}` is not supported by orchestrator: {reason}",
            name=module or qualified_name,
        )
    return NotSupportedByOrchestrator(
        f"`{qualified_name}` is not supported by orchestrator yet "
        "(see docs/authoring.md, 'Airflow import paths')",
        name=module or qualified_name,
    )


def resolve_target(target: str) -> Any:
    """The object a table target names: ``"module"`` or ``"module:attr.attr"``.

    Raises LookupError when the module or attribute does not exist (yet).
    """
    module_name, _, attribute_path = target.partition(":")
    try:
        value: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only "our target module is missing" means "not supported"; a missing module
        # further down (a bug or a missing dependency) must surface as itself.
        if exc.name is not None and module_name.startswith(exc.name):
            raise LookupError(target) from exc
        raise
    for part in attribute_path.split(".") if attribute_path else ():
        try:
            value = getattr(value, part)
        except AttributeError as exc:
            raise LookupError(target) from exc
    return value


def available_names(module_name: str) -> list[str]:
    """The names of ``module_name`` that resolve right now (its ``__all__``)."""
    found = []
    for name, target in MODULES.get(module_name, {}).items():
        if name.startswith("__"):
            continue
        try:
            resolve_target(target)
        except LookupError:
            continue
        found.append(name)
    return sorted(found)


def make_module_getattr(module_name: str):
    entries = MODULES.get(module_name, {})

    def __getattr__(name: str) -> Any:
        if name == "__all__":
            return available_names(module_name)
        qualified = f"{module_name}.{name}"
        if qualified in MODULES:  # a submodule: `airflow.operators.bash` as an attribute
            return importlib.import_module(qualified)
        target = entries.get(name)
        if target is None:
            if name.startswith("__"):
                # Python and tools probe dunders (__path__, __wrapped__ ...) with hasattr.
                raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
            raise not_supported(qualified)
        try:
            return resolve_target(target)
        except LookupError:
            raise not_supported(qualified) from None

    return __getattr__


class AirflowCompatFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds and builds every ``airflow`` module of the table; refuses other ``airflow.*``."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != ROOT and not fullname.startswith(ROOT + "."):
            return None
        if fullname not in MODULES:
            if _called_by_import_statement():
                raise not_supported(fullname)
            # importlib.util.find_spec("airflow.providers.x") is how code probes for an
            # optional provider: answer "absent", as the real Airflow would without it.
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = types.ModuleType(spec.name)
        module.__dict__["__getattr__"] = make_module_getattr(spec.name)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        # Every synthesized module may have submodules; the finder builds them, so the search
        # path stays empty.
        module.__path__ = []
        module.__doc__ = (
            f"{module.__name__}: Airflow's module, resolved to orchestrator's SDK "
            "(dagruns.sdk.airflow_compat)."
        )


def _called_by_import_statement() -> bool:
    """True when an ``import`` is running (find_spec <- _find_spec <- _find_and_load_unlocked),
    not a probe through ``importlib.util.find_spec``."""
    try:
        return sys._getframe(3).f_code.co_name == "_find_and_load_unlocked"
    except ValueError:  # a shallower stack than an import's
        return False


def installed_finder() -> AirflowCompatFinder | None:
    for finder in sys.meta_path:
        if isinstance(finder, AirflowCompatFinder):
            return finder
    return None
