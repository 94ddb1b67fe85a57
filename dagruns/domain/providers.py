"""What this system provides in place of Airflow's provider packages.

Airflow lists the provider packages installed next to it. We install none: our SDK serves the
import paths of some of them (`airflow.providers.standard...`, `airflow.providers.common.compat
...`) through the Airflow import table (`dagruns.sdk.airflow_compat.table.MODULES`). This module
reads that table, so the list cannot drift from what DAG files can really import: a provider is
here exactly when the table serves one of its modules, its hooks are the BaseHook subclasses its
modules resolve to right now, and a name the table offers that does not resolve (yet) is left
out, as the import would fail.

Airflow's provider package names follow from their import paths: `airflow.providers.X` is
`apache-airflow-providers-X`, and for Airflow's grouped providers (`common.compat`,
`cncf.kubernetes`, `apache.kafka` ...) two segments name the package.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from dagruns.sdk.airflow_compat.finder import resolve_target
from dagruns.sdk.airflow_compat.table import MODULES
from dagruns.sdk.airflow_compat.version import AIRFLOW_VERSION
from dagruns.sdk.baseoperator import BaseOperator
from dagruns.sdk.hooks import BaseHook
from dagruns.sdk.sensors.base import BaseSensorOperator
from dagruns.sdk.triggers.base import BaseTrigger

PROVIDERS_ROOT = "airflow.providers"
# Airflow's provider groups: the first segment under airflow.providers that is a namespace, not
# a package (apache-airflow-providers-common-compat, -cncf-kubernetes, -microsoft-azure ...).
NAMESPACE_GROUPS = ("apache", "atlassian", "cncf", "common", "dbt", "microsoft")
DOCS_URL = "https://airflow.apache.org/docs/{package}/stable/index.html"


@dataclass(frozen=True)
class HookInfo:
    """One hook class a provider's modules serve, as Airflow's providers manager lists it."""

    class_name: str
    import_path: str  # the Airflow path a DAG file imports it from
    conn_type: str
    hook_name: str


@dataclass
class Provider:
    """One Airflow provider package whose import paths we serve."""

    package_name: str
    import_root: str
    modules: list[str] = field(default_factory=list)
    hooks: list[HookInfo] = field(default_factory=list)
    operators: list[str] = field(default_factory=list)
    sensors: list[str] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        # No provider package is installed: what we serve follows the Airflow release whose
        # surface the SDK implements.
        return AIRFLOW_VERSION

    @property
    def documentation_url(self) -> str:
        return DOCS_URL.format(package=self.package_name)

    @property
    def connection_types(self) -> list[tuple[str, str]]:
        """(conn_type, hook_name) of the hooks that declare a connection type."""
        return sorted({(h.conn_type, h.hook_name) for h in self.hooks if h.conn_type})

    @property
    def description(self) -> str:
        parts = [f"{len(self.modules)} import paths of {self.import_root} served by orchestrator"]
        for label, names in (
            ("operators", self.operators),
            ("sensors", self.sensors),
            ("triggers", self.triggers),
            ("hooks", [h.class_name for h in self.hooks]),
        ):
            if names:
                parts.append(f"{label}: {', '.join(names)}")
        return "; ".join(parts)


def provider_root(module: str) -> str | None:
    """The import root of the provider package `module` belongs to (None: not a provider's)."""
    parts = module.split(".")
    if parts[:2] != PROVIDERS_ROOT.split(".") or len(parts) < 3:
        return None
    if parts[2] in NAMESPACE_GROUPS:
        return ".".join(parts[:4]) if len(parts) >= 4 else None
    return ".".join(parts[:3])


def package_name(root: str) -> str:
    """`airflow.providers.common.compat` → `apache-airflow-providers-common-compat`."""
    tail = root.removeprefix(PROVIDERS_ROOT + ".")
    return "apache-airflow-providers-" + tail.replace(".", "-").replace("_", "-")


BASE_CLASSES = (BaseHook, BaseOperator, BaseSensorOperator, BaseTrigger)


def _kind(value: object) -> str | None:
    """Which list a served name belongs in (None: a helper, an exception, a base class)."""
    if not isinstance(value, type) or value in BASE_CLASSES:
        return None
    if issubclass(value, BaseHook):
        return "hooks"
    if issubclass(value, BaseSensorOperator):
        return "sensors"
    if issubclass(value, BaseOperator):
        return "operators"
    if issubclass(value, BaseTrigger):
        return "triggers"
    return None


def _collect(modules: dict[str, dict[str, str]]) -> list[Provider]:
    providers: dict[str, Provider] = {}
    for module, entries in modules.items():
        root = provider_root(module)
        if root is None:
            continue
        provider = providers.setdefault(root, Provider(package_name(root), root))
        provider.modules.append(module)
        for name, target in entries.items():
            try:
                value = resolve_target(target)
            except LookupError:
                continue  # offered by the table but not (yet) in the SDK: not served
            kind = _kind(value)
            if kind == "hooks":
                assert isinstance(value, type) and issubclass(value, BaseHook)
                hook = HookInfo(name, f"{module}.{name}", value.conn_type, value.hook_name)
                if all(h.class_name != name for h in provider.hooks):
                    provider.hooks.append(hook)
            elif kind is not None:
                names: list[str] = getattr(provider, kind)
                if name not in names:
                    names.append(name)
    for provider in providers.values():
        provider.modules.sort()
        provider.hooks.sort(key=lambda h: h.class_name)
        for kind in ("operators", "sensors", "triggers"):
            getattr(provider, kind).sort()
    return sorted(providers.values(), key=lambda p: p.package_name)


@functools.cache
def _served() -> tuple[Provider, ...]:
    return tuple(_collect(MODULES))


def served_providers() -> list[Provider]:
    """The provider packages whose import paths our SDK serves, by package name (computed once
    per process: the table and the SDK do not change while it runs)."""
    return list(_served())
