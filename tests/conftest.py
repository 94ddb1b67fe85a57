"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection


def pytest_collection_modifyitems(config, items):
    on_postgres = connection.vendor == "postgresql"
    for item in items:
        if item.get_closest_marker("postgres_only") and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (runs in the PG pass)"))


@pytest.fixture
def orch_settings(settings):
    """Change `settings.ORCH` keys for one test; restored afterwards."""
    settings.ORCH = dict(settings.ORCH)
    return settings.ORCH


@pytest.fixture
def dags_folder(tmp_path: Path, orch_settings) -> Path:
    """An empty DAGs folder that the processor scans (examples off)."""
    folder = tmp_path / "dags"
    folder.mkdir()
    orch_settings["DAGS_FOLDER"] = folder
    orch_settings["LOAD_EXAMPLES"] = False
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
