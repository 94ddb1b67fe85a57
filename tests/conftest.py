"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from orchestrator_site.config import OrchSettings

# --- Which tests the PostgreSQL pass runs ---------------------------------------------------
# The SQLite pass of .ci/test.sh (the embedded default) runs every test; the PostgreSQL pass
# runs `-m database`: the tests whose outcome may depend on the database engine. This hook
# gives the marker, so the choice is made here and nowhere else (README: "Which pass runs a
# test"):
#
# - a test that reaches the test database through pytest-django (the fixtures below, or the
#   django_db marker) is a database test: any query it makes may behave differently there;
# - so is every test under DATABASE_DIRECTORIES, which reach databases through subprocesses
#   (servers, schedulers, standalone trees with a scratch database) without those fixtures,
#   and any test marked `database` by hand for the same reason;
# - except the tests under SAME_ON_EVERY_DATABASE and those marked sqlite_only or
#   same_on_every_database (given with the reason where it is given);
# - and except the engine semantics tests (tests/e2e, the `engine` fixture), which the third
#   pass runs on PostgreSQL with the Celery executor: PostgreSQL with Celery and SQLite with
#   the local executor are the two set-ups people run, and each engine test runs in both.
#
# The default is the safe side: a new test that touches the database runs on both engines
# until someone shows it cannot differ (a missed opt-out costs seconds, a missed opt-in would
# cost coverage); one that cannot reach a database (pytest-django refuses its queries) runs
# on SQLite alone, where its result is the same.
DATABASE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "live_server",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "admin_user",
        "admin_client",
    }
)
DATABASE_DIRECTORIES = ("tests/e2e/",)
SAME_ON_EVERY_DATABASE = {
    # Real pages in Chromium issue the views' queries, which tests/dagruns/views runs on both
    # engines; live updates over PostgreSQL NOTIFY are proved by tests/e2e/test_log_replicas_e2e
    # and tests/dagruns/notify. What the browser adds (scripts, CSP, sockets) is the same.
    "tests/browser/",
    # The task runner never touches a database (an import contract): what it sends goes
    # through the Execution API, whose handlers tests/dagruns/api runs on both engines.
    "tests/scheduler/runner/",
}


def is_database_test(item: pytest.Item, rootpath: Path) -> bool:
    where = item.path.relative_to(rootpath).as_posix()
    if (
        item.get_closest_marker("sqlite_only")
        or item.get_closest_marker("same_on_every_database")
        or where.startswith(tuple(SAME_ON_EVERY_DATABASE))
    ):
        return False
    if item.get_closest_marker("postgres_only") or item.get_closest_marker("database"):
        return True
    if where.startswith("tests/e2e/") and "engine" in item.fixturenames:
        # The Celery pass runs it on PostgreSQL, unless it inspects the local executor.
        return bool(item.get_closest_marker("local_executor"))
    return (
        where.startswith(DATABASE_DIRECTORIES)
        or bool(DATABASE_FIXTURES & set(item.fixturenames))
        or item.get_closest_marker("django_db") is not None
    )


def pytest_collection_modifyitems(config, items):
    on_postgres = connection.vendor == "postgresql"
    for item in items:
        if item.get_closest_marker("postgres_only") and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (runs in the PG pass)"))
        if is_database_test(item, config.rootpath):
            item.add_marker(pytest.mark.database)
    # No reordering here: pytest-django runs plain `db` tests before transactional ones, whose
    # flush deletes the data migrations' rows (default_pool, the role groups) that plain tests
    # rely on. Sorting long tests first undid that order and broke tests/dagruns/api/rest.


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
