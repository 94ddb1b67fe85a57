"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from orchestrator_site.config import OrchSettings


def pytest_collection_modifyitems(config, items):
    on_postgres = connection.vendor == "postgresql"
    for item in items:
        if item.get_closest_marker("postgres_only") and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (runs in the PG pass)"))


class _OverridableSettings(OrchSettings):
    """A test's own copy of settings.ORCH. `orch_settings.parallelism = 4` is the way; the
    `orch_settings.parallelism = 4` spelling of the old dict still works (a name that is
    not declared fails either way)."""

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name.lower())

    def __setitem__(self, name: str, value: Any) -> None:
        setattr(self, name.lower(), value)


@pytest.fixture
def orch_settings(settings) -> OrchSettings:
    """Change `settings.ORCH` values for one test; restored afterwards."""
    settings.ORCH = _OverridableSettings.model_construct(**dict(settings.ORCH))
    return settings.ORCH


@pytest.fixture
def dags_folder(tmp_path: Path, orch_settings) -> Path:
    """An empty DAGs folder that the processor scans (examples off)."""
    folder = tmp_path / "dags"
    folder.mkdir()
    orch_settings.dags_folder = folder
    orch_settings.load_examples = False
    return folder


@pytest.fixture(autouse=True)
def _fresh_dag_graph_cache():
    """Version ids are never reused in production (AUTOINCREMENT / sequences), but a rolled
    back test transaction rewinds SQLite's counter: forget cached graphs between tests."""
    from dagruns.domain.dag_graph import graph_for_version
    from dagruns.domain.versions import clear_caches

    graph_for_version.cache_clear()
    clear_caches()
    yield
    graph_for_version.cache_clear()
    clear_caches()
